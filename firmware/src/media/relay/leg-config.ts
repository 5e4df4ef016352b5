/**
 * What a relay leg needs to know from the SDP exchanged on that leg: where
 * the far end wants media, which payload type means which codec in each
 * direction, which codec to transcode into if the other leg's codec is not
 * one this leg accepted, and which way media may flow.
 *
 * Payload types (RFC 3264 §5.1, §6.1): the far end sends with the numbers of
 * the gateway's SDP and expects the numbers of its own SDP. The gateway
 * keeps the offerer's numbers, so these usually agree; when they do not,
 * each direction still uses the right table. Receiving is lenient (a payload
 * type from either SDP is understood, because phones do get this wrong);
 * sending is strict (only codecs both SDPs list).
 */
import type { Sdp } from '../sdp/sdp-types.js';
import { getAudioCodecs, getCodecs } from '../sdp/sdp-codecs.js';
import type { SdpCodec } from '../sdp/sdp-codecs.js';
import { directionBits, getDirection } from '../sdp/sdp-direction.js';
import { remoteEndpoint } from '../sdp/sdp-connection.js';
import type { RemoteEndpoint } from '../sdp/sdp-connection.js';
import { findAudioStream } from '../sdp/sdp-negotiate.js';
import { isNullAddress } from '../sdp/sdp-direction.js';
import { codecId, codecName } from './codec-ids.js';
import type { LegStats } from './leg-stats.js';

export interface LegFlow {
  /** The gateway may send media to this leg (it receives: its SDP is sendrecv/recvonly and ours sendrecv/sendonly). */
  toLeg: boolean;
  /** This leg's media is forwarded (it sends, and the gateway's SDP lets it). */
  fromLeg: boolean;
}

export interface LegConfig {
  /** Where to send, from the far end's SDP (null: unknown, rejected or legacy-held). */
  remote: RemoteEndpoint | null;
  /** Payload type → codec id for packets from the leg (−1: unknown). */
  rxPt: Int16Array;
  /** Codec id → payload type for packets to the leg. */
  txPt: Map<number, number>;
  /** The audio codec to send when transcoding: the far end's first audio codec that both SDPs list. */
  txPrimary: { id: number; pt: number; codec: SdpCodec } | null;
  flow: LegFlow;
}

export interface LegSdp {
  /** The SDP the gateway sent on this leg (offer or answer). */
  local?: Sdp | null;
  /** The SDP the far end sent on this leg. */
  remote?: Sdp | null;
  /** Index of the audio stream in each; default: the first RTP audio stream. */
  localIndex?: number;
  remoteIndex?: number;
}

function codecsOf(sdp: Sdp | null | undefined, index: number | undefined): { all: SdpCodec[]; audio: SdpCodec[]; i: number } {
  if (!sdp) return { all: [], audio: [], i: -1 };
  // Default: the first RTP audio stream, else the first audio m= line at all (which may be rejected, port 0).
  let i = index ?? findAudioStream(sdp);
  if (i < 0) i = sdp.media.findIndex((m) => m.type.toLowerCase() === 'audio');
  const m = i >= 0 ? sdp.media[i] : undefined;
  if (!m || m.port === 0) return { all: [], audio: [], i };
  return { all: getCodecs(m), audio: getAudioCodecs(m), i };
}

export function emptyLegConfig(): LegConfig {
  return { remote: null, rxPt: new Int16Array(128).fill(-1), txPt: new Map(), txPrimary: null, flow: { toLeg: false, fromLeg: false } };
}

export function legConfigFromSdp(s: LegSdp): LegConfig {
  const local = codecsOf(s.local, s.localIndex);
  const remote = codecsOf(s.remote, s.remoteIndex);

  const rxPt = new Int16Array(128).fill(-1);
  for (const c of remote.all) rxPt[c.pt] = codecId(c);
  for (const c of local.all) rxPt[c.pt] = codecId(c);

  // Send only what both SDPs list (the negotiated set, RFC 3264 §6.1), numbered as the far end wants;
  // with one SDP only, whatever it lists.
  const txPt = new Map<number, number>();
  const localAll = new Set(local.all.map((c) => codecId(c)));
  if (remote.all.length === 0) for (const c of local.all) txPt.set(codecId(c), c.pt);
  for (const c of remote.all) {
    const id = codecId(c);
    if ((localAll.size === 0 || localAll.has(id)) && !txPt.has(id)) txPt.set(id, c.pt);
  }

  let txPrimary: LegConfig['txPrimary'] = null;
  const localIds = new Set(local.audio.map((c) => codecId(c)));
  const candidates = remote.audio.length > 0 ? remote.audio : local.audio;
  const primary = candidates.find((c) => localIds.size === 0 || localIds.has(codecId(c))) ?? candidates[0];
  if (primary) txPrimary = { id: codecId(primary), pt: primary.pt, codec: primary };

  const localDir = s.local && local.i >= 0 ? directionBits(getDirection(s.local, local.i)) : { send: true, recv: true };
  const remoteDir = s.remote && remote.i >= 0 ? directionBits(getDirection(s.remote, remote.i)) : { send: true, recv: true };
  let endpoint = s.remote && remote.i >= 0 ? remoteEndpoint(s.remote, remote.i) : null;
  if (endpoint && isNullAddress(endpoint.address)) endpoint = null;
  const rejected = (s.local && local.i >= 0 && s.local.media[local.i]?.port === 0) || (s.remote && remote.i >= 0 && s.remote.media[remote.i]?.port === 0);

  return {
    remote: endpoint,
    rxPt,
    txPt,
    txPrimary,
    flow: {
      toLeg: !rejected && localDir.send && remoteDir.recv,
      fromLeg: !rejected && remoteDir.send && localDir.recv,
    },
  };
}

/**
 * True when two configurations forward the same way: same far end, same
 * flow, same payload numbers both ways, same primary codec. A session
 * refresh (RFC 4028) or a re-INVITE that changes nothing for media gives
 * the same configuration again.
 */
export function sameLegConfig(a: LegConfig, b: LegConfig): boolean {
  const ra = a.remote;
  const rb = b.remote;
  if ((ra === null) !== (rb === null)) return false;
  if (ra && rb && (ra.address !== rb.address || ra.port !== rb.port || ra.rtcpAddress !== rb.rtcpAddress || ra.rtcpPort !== rb.rtcpPort)) return false;
  if (a.flow.toLeg !== b.flow.toLeg || a.flow.fromLeg !== b.flow.fromLeg) return false;
  if (a.txPrimary?.id !== b.txPrimary?.id || a.txPrimary?.pt !== b.txPrimary?.pt) return false;
  if (a.txPt.size !== b.txPt.size) return false;
  for (const [id, pt] of a.txPt) if (b.txPt.get(id) !== pt) return false;
  for (let pt = 0; pt < 128; pt++) if (a.rxPt[pt] !== b.rxPt[pt]) return false;
  return true;
}

/** What a leg's stats say of its configuration: where its SDP sends, its codec, its flow. */
export function describeLegConfig(c: LegConfig): Pick<LegStats, 'remote' | 'codec' | 'flow'> {
  return {
    remote: c.remote ? { address: c.remote.address, port: c.remote.port } : null,
    codec: c.txPrimary ? codecName(c.txPrimary.id) : null,
    flow: { ...c.flow },
  };
}
