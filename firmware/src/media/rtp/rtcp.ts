/**
 * RTCP (RFC 3550 §6): telling RTCP from RTP on one port (RFC 5761 §4), a
 * compound-packet sanity check (RFC 3550 appendix A.2), and in-place SSRC
 * rewriting for a relay that renumbers the streams it forwards.
 */
import { readU32, writeU16, writeU32 } from './rtp-header.js';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;
/** RFC 4585 transport- and payload-specific feedback. */
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;

/** The RTCP packet types of RFC 3550 §12.1 (200–204). */
export function isRtcpPacketType(pt: number): boolean {
  return pt >= RTCP_SR && pt <= RTCP_APP;
}

export type PacketKind = 'rtp' | 'rtcp' | 'invalid';

/**
 * Which protocol a datagram is (RFC 5761 §4): both have version 2 in the
 * top bits; if the second octet (marker bit included) is in 192–223 it is
 * RTCP, which is why RTP payload types 64–95 must not be used when they
 * share a port. RTCP also needs at least the 8-byte common header.
 */
export function classifyPacket(buf: Uint8Array, length = buf.length): PacketKind {
  if (length < 8 || buf[0]! >> 6 !== 2) return 'invalid';
  const b1 = buf[1]!;
  if (b1 >= 192 && b1 <= 223) return 'rtcp';
  return length >= 12 ? 'rtp' : 'invalid';
}

/**
 * RFC 3550 appendix A.2 validity of a compound packet: version 2 in every
 * packet, the first is SR or RR (or, for reduced-size RTCP, RFC 5506,
 * feedback), padding only on the last, and the lengths add up exactly.
 */
export function isValidRtcpCompound(buf: Uint8Array, length = buf.length): boolean {
  if (length < 8 || length % 4 !== 0) return false;
  const first = buf[1]!;
  if (first !== RTCP_SR && first !== RTCP_RR && first !== RTCP_RTPFB && first !== RTCP_PSFB) return false;
  let off = 0;
  while (off < length) {
    if (off + 4 > length) return false;
    const b0 = buf[off]!;
    if (b0 >> 6 !== 2) return false;
    const words = (buf[off + 2]! << 8) | buf[off + 3]!;
    const next = off + 4 + words * 4;
    if (next > length) return false;
    if (b0 & 0x20 && next !== length) return false;
    off = next;
  }
  return off === length;
}

/** Each packet of a compound: type, count field, offset and length in bytes. */
export interface RtcpPacketInfo {
  type: number;
  count: number;
  offset: number;
  length: number;
}

export function listRtcpPackets(buf: Uint8Array, length = buf.length): RtcpPacketInfo[] {
  const out: RtcpPacketInfo[] = [];
  let off = 0;
  while (off + 4 <= length) {
    const len = 4 + ((buf[off + 2]! << 8) | buf[off + 3]!) * 4;
    if (off + len > length) break;
    out.push({ type: buf[off + 1]!, count: buf[off]! & 0x1f, offset: off, length: len });
    off += len;
  }
  return out;
}

/**
 * How a relay renumbered the stream it forwards in each direction:
 * `sender` maps the SSRC/timestamps of the stream whose RTCP this is (the
 * sender's own media, renumbered toward the receiver), `reported` maps the
 * stream the sender reports on back to the number its real source uses.
 */
export interface RtcpRewrite {
  sender: { from: number; to: number; tsOffset: number } | null;
  reported: { from: number; to: number; seqOffset: number } | null;
}

/**
 * Rewrite SSRCs in an RTCP compound in place: SR/RR sender SSRC and SR RTP
 * timestamp, report blocks (SSRC and extended highest sequence), SDES chunk
 * SSRCs, BYE SSRCs, APP and feedback sender/media SSRCs. Other fields
 * (NTP time, counts, jitter) are left as they are.
 */
export function rewriteRtcpSsrcs(buf: Uint8Array, length: number, rw: RtcpRewrite): void {
  const { sender, reported } = rw;
  const mapSender = (o: number): void => {
    if (sender && readU32(buf, o) === sender.from) writeU32(buf, o, sender.to);
  };
  const reportBlocks = (o: number, n: number, end: number): void => {
    for (let i = 0; i < n && o + 24 <= end; i++, o += 24) {
      if (reported && readU32(buf, o) === reported.from) {
        writeU32(buf, o, reported.to);
        // Extended highest sequence: low 16 bits are the sequence number we sent; give the source its own numbering back.
        const lo = ((buf[o + 10]! << 8) | buf[o + 11]!) - reported.seqOffset;
        writeU16(buf, o + 10, lo & 0xffff);
      }
    }
  };
  for (const p of listRtcpPackets(buf, length)) {
    const o = p.offset;
    const end = o + p.length;
    switch (p.type) {
      case RTCP_SR:
        if (p.length < 28) break;
        if (sender && readU32(buf, o + 4) === sender.from) {
          writeU32(buf, o + 4, sender.to);
          writeU32(buf, o + 16, (readU32(buf, o + 16) + sender.tsOffset) >>> 0);
        }
        reportBlocks(o + 28, p.count, end);
        break;
      case RTCP_RR:
        if (p.length < 8) break;
        mapSender(o + 4);
        reportBlocks(o + 8, p.count, end);
        break;
      case RTCP_SDES: {
        // Chunks: SSRC, then items (type, length, text) up to a null item, padded to 32 bits.
        let c = o + 4;
        for (let i = 0; i < p.count && c + 4 <= end; i++) {
          mapSender(c);
          let it = c + 4;
          while (it < end && buf[it] !== 0) it += 2 + (buf[it + 1] ?? 0);
          c = (it + 4) & ~3;
        }
        break;
      }
      case RTCP_BYE:
        for (let i = 0; i < p.count && o + 8 + i * 4 <= end; i++) mapSender(o + 4 + i * 4);
        break;
      case RTCP_APP:
        if (p.length >= 8) mapSender(o + 4);
        break;
      case RTCP_RTPFB:
      case RTCP_PSFB:
        if (p.length >= 12) {
          mapSender(o + 4);
          if (reported && readU32(buf, o + 8) === reported.from) writeU32(buf, o + 8, reported.to);
        }
        break;
      default:
        break;
    }
  }
}
