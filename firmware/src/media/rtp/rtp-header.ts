/**
 * RTP fixed header (RFC 3550 §5.1):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   |                           timestamp                           |
 *   |           synchronization source (SSRC) identifier            |
 *   |            contributing source (CSRC) identifiers  (CC × 32)  |
 *   |  [extension: profile (16) | length in words (16) | data ...]  |
 *
 * The relay reads and rewrites these fields in place on the received
 * buffer (the accessors below), so forwarding allocates nothing; the
 * parse/write pair is for tests, the tone generator and the player.
 */

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER = 12;

export interface RtpHeader {
  padding: boolean;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrc: number[];
  /** Header extension (RFC 3550 §5.3.1), if any: profile-defined 16 bits and data (a multiple of 4 bytes). */
  extension: { profile: number; data: Uint8Array } | null;
}

export interface ParsedRtp extends RtpHeader {
  /** Offset of the payload in the buffer. */
  payloadOffset: number;
  /** Payload length, padding excluded. */
  payloadLength: number;
  /** Number of padding bytes at the end (RFC 3550 §5.1, P bit). */
  paddingLength: number;
}

/**
 * The payload offset of a valid RTP packet, or -1 if it is not one:
 * version 2, long enough for its CSRCs and extension, sane padding.
 */
export function rtpPayloadOffset(buf: Uint8Array, length = buf.length): number {
  if (length < RTP_FIXED_HEADER) return -1;
  const b0 = buf[0]!;
  if (b0 >> 6 !== RTP_VERSION) return -1;
  let off = RTP_FIXED_HEADER + (b0 & 0x0f) * 4;
  if (off > length) return -1;
  if (b0 & 0x10) {
    if (off + 4 > length) return -1;
    off += 4 + ((buf[off + 2]! << 8) | buf[off + 3]!) * 4;
    if (off > length) return -1;
  }
  if (b0 & 0x20) {
    const pad = buf[length - 1]!;
    if (pad === 0 || off + pad > length) return -1;
  }
  return off;
}

export function parseRtp(buf: Uint8Array, length = buf.length): ParsedRtp | null {
  const payloadOffset = rtpPayloadOffset(buf, length);
  if (payloadOffset < 0) return null;
  const b0 = buf[0]!;
  const csrc: number[] = [];
  for (let i = 0; i < (b0 & 0x0f); i++) csrc.push(readU32(buf, RTP_FIXED_HEADER + i * 4));
  let extension: RtpHeader['extension'] = null;
  if (b0 & 0x10) {
    const x = RTP_FIXED_HEADER + csrc.length * 4;
    const words = (buf[x + 2]! << 8) | buf[x + 3]!;
    extension = { profile: (buf[x]! << 8) | buf[x + 1]!, data: buf.slice(x + 4, x + 4 + words * 4) };
  }
  const paddingLength = b0 & 0x20 ? buf[length - 1]! : 0;
  return {
    padding: (b0 & 0x20) !== 0,
    marker: (buf[1]! & 0x80) !== 0,
    payloadType: buf[1]! & 0x7f,
    sequence: rtpSequence(buf),
    timestamp: rtpTimestamp(buf),
    ssrc: rtpSsrc(buf),
    csrc,
    extension,
    payloadOffset,
    payloadLength: length - payloadOffset - paddingLength,
    paddingLength,
  };
}

/** The header length writeRtpHeader will use. */
export function rtpHeaderLength(h: Pick<RtpHeader, 'csrc' | 'extension'>): number {
  return RTP_FIXED_HEADER + h.csrc.length * 4 + (h.extension ? 4 + h.extension.data.length : 0);
}

/** Write a header at offset; returns its length. The caller sets the P bit's padding bytes itself. */
export function writeRtpHeader(buf: Uint8Array, h: RtpHeader, offset = 0): number {
  if (h.csrc.length > 15) throw new RangeError('at most 15 CSRCs');
  if (h.extension && h.extension.data.length % 4 !== 0) throw new RangeError('extension data must be a multiple of 4 bytes');
  const len = rtpHeaderLength(h);
  if (offset + len > buf.length) throw new RangeError('buffer too small for the RTP header');
  buf[offset] = (RTP_VERSION << 6) | (h.padding ? 0x20 : 0) | (h.extension ? 0x10 : 0) | h.csrc.length;
  buf[offset + 1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  writeU16(buf, offset + 2, h.sequence);
  writeU32(buf, offset + 4, h.timestamp);
  writeU32(buf, offset + 8, h.ssrc);
  let o = offset + RTP_FIXED_HEADER;
  for (const c of h.csrc) {
    writeU32(buf, o, c);
    o += 4;
  }
  if (h.extension) {
    writeU16(buf, o, h.extension.profile);
    writeU16(buf, o + 2, h.extension.data.length / 4);
    buf.set(h.extension.data, o + 4);
  }
  return len;
}

/** A whole packet: header then payload. */
export function buildRtp(h: Omit<RtpHeader, 'padding'>, payload: Uint8Array): Buffer {
  const header = { ...h, padding: false };
  const buf = Buffer.allocUnsafe(rtpHeaderLength(header) + payload.length);
  const n = writeRtpHeader(buf, header);
  buf.set(payload, n);
  return buf;
}

// In-place accessors for the forwarding path.

export function readU32(buf: Uint8Array, o: number): number {
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}
export function writeU32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v >>> 24;
  buf[o + 1] = (v >>> 16) & 0xff;
  buf[o + 2] = (v >>> 8) & 0xff;
  buf[o + 3] = v & 0xff;
}
export function writeU16(buf: Uint8Array, o: number, v: number): void {
  buf[o] = (v >>> 8) & 0xff;
  buf[o + 1] = v & 0xff;
}

export function rtpPayloadType(buf: Uint8Array): number {
  return buf[1]! & 0x7f;
}
export function setRtpPayloadType(buf: Uint8Array, pt: number): void {
  buf[1] = (buf[1]! & 0x80) | (pt & 0x7f);
}
export function rtpMarker(buf: Uint8Array): boolean {
  return (buf[1]! & 0x80) !== 0;
}
export function setRtpMarker(buf: Uint8Array, on: boolean): void {
  buf[1] = on ? buf[1]! | 0x80 : buf[1]! & 0x7f;
}
export function rtpSequence(buf: Uint8Array): number {
  return (buf[2]! << 8) | buf[3]!;
}
export function setRtpSequence(buf: Uint8Array, v: number): void {
  writeU16(buf, 2, v);
}
export function rtpTimestamp(buf: Uint8Array): number {
  return readU32(buf, 4);
}
export function setRtpTimestamp(buf: Uint8Array, v: number): void {
  writeU32(buf, 4, v);
}
export function rtpSsrc(buf: Uint8Array): number {
  return readU32(buf, 8);
}
export function setRtpSsrc(buf: Uint8Array, v: number): void {
  writeU32(buf, 8, v);
}

/** a − b for 16-bit sequence numbers, in −32768..32767 (RFC 3550 appendix A.1 arithmetic). */
export function seqDelta(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/** a − b for 32-bit timestamps, signed. */
export function tsDelta(a: number, b: number): number {
  return (a - b) | 0;
}
