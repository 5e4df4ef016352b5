/**
 * Offer/answer (RFC 3264) for the gateway's side of each leg.
 *
 * The relay anchors one audio stream per leg, so every SDP the gateway
 * writes accepts at most one audio stream, with one audio codec plus
 * telephone-event: a single codec per direction makes pass-through
 * predictable (the PBX asks for the other leg's codec first) and keeps the
 * far end from switching codec mid-call.
 */
import { PgwError } from '../../util/errors.js';
import type { Direction, Sdp, SdpMedia } from './sdp-types.js';
import type { SdpCodec } from './sdp-codecs.js';
import {
  TELEPHONE_EVENT,
  codecAttributes,
  codecNameEquals,
  defaultClockRate,
  getAudioCodecs,
  getCodecs,
  getTelephoneEvent,
  keepPayloadTypes,
  setPtime,
  staticPayloadType,
} from './sdp-codecs.js';
import { answerDirection, getDirection, setDirection } from './sdp-direction.js';
import { connectionFor, remoteEndpoint, setMediaAddress, stripTransportAttributes } from './sdp-connection.js';
import type { RemoteEndpoint } from './sdp-connection.js';
import { SdpOriginator } from './sdp-origin.js';

/** RTP profiles the relay can carry: plain RTP (RFC 3551) and AVPF, whose feedback it relays as RTCP (RFC 4585). */
const PLAIN_RTP = new Set(['RTP/AVP', 'RTP/AVPF']);

/** The default payload type offered for telephone-event (common practice; any dynamic PT is allowed, RFC 4733 §7.1.1). */
export const DEFAULT_DTMF_PT = 101;

function negotiationError(message: string, context: Record<string, unknown> = {}): PgwError {
  return new PgwError('PGW_E_SDP_NEGOTIATION', message, { context });
}

/** The first audio stream the relay can carry: audio, port not 0, plain RTP. */
export function findAudioStream(sdp: Sdp): number {
  return sdp.media.findIndex((m) => m.type.toLowerCase() === 'audio' && m.port !== 0 && PLAIN_RTP.has(m.proto.toUpperCase()));
}

/** "PCMA" or "G722/8000": a name with an optional clock rate. */
function matches(c: SdpCodec, wanted: string): boolean {
  const [name, rate] = wanted.split('/');
  if (!codecNameEquals(c.name, name!)) return false;
  return rate === undefined || Number(rate) === c.clockRate;
}

/** The first codec of `supported` (preference order) that the media section offers, with the offerer's payload type. */
export function pickCodec(m: SdpMedia, supported: readonly string[]): SdpCodec | null {
  const offered = getAudioCodecs(m);
  for (const want of supported) {
    const c = offered.find((o) => matches(o, want));
    if (c) return c;
  }
  return null;
}

function rejectedCopy(m: SdpMedia): SdpMedia {
  // RFC 3264 §6: a rejected stream keeps its m= line with port 0; at least one format must remain.
  return {
    type: m.type,
    port: 0,
    portCount: null,
    proto: m.proto,
    formats: m.formats.length > 0 ? [...m.formats] : ['0'],
    connection: null,
    lines: [],
    attributes: [],
  };
}

function baseSdp(localAddress: string): Sdp {
  return {
    version: 0,
    origin: { username: 'pgw', sessionId: '0', sessionVersion: '0', netType: 'IN', addrType: 'IP4', address: localAddress },
    sessionName: '-',
    connection: connectionFor(localAddress),
    lines: [{ type: 't', value: '0 0' }],
    attributes: [],
    media: [],
  };
}

export interface NegotiateAnswerOptions {
  offer: Sdp;
  /** Codec names in preference order, e.g. ['PCMA', 'PCMU', 'G722'] (optionally 'NAME/rate'). */
  supported: readonly string[];
  /** The gateway's address on the interface that faces the offerer. */
  localAddress: string;
  /** The RTP port of the offerer's leg (RTCP is port + 1). */
  localPort: number;
  /**
   * false to refuse telephone-event. Otherwise the offerer's telephone-event
   * payload type is accepted (an answer keeps the offerer's numbers, RFC 3264
   * §6.1); the number given here is not used in an answer.
   */
  dtmfPt?: number | false;
  /** What the gateway wants (default sendrecv); narrowed to what the offer allows (RFC 3264 §6.1). */
  direction?: Direction;
  /** The o= of the gateway on this leg; a fresh one when omitted. */
  originator?: SdpOriginator;
  /** a=ptime to write, if any. */
  ptime?: number;
}

export interface NegotiatedAnswer {
  answer: Sdp;
  /** The index of the accepted audio stream in both offer and answer. */
  mediaIndex: number;
  codec: SdpCodec;
  telephoneEvent: SdpCodec | null;
  /** The direction written in the answer (the gateway's point of view). */
  direction: Direction;
  /** Where the offerer wants its media (null if it gave no usable address, e.g. still on legacy hold). */
  remote: RemoteEndpoint | null;
}

/**
 * Answer an offer (RFC 3264 §6): the same number of m= lines in the same
 * order, every stream but the chosen audio one rejected with port 0, the
 * offerer's payload type numbers, telephone-event if offered.
 * Throws PGW_E_SDP_NEGOTIATION when there is no audio stream or no common codec.
 */
export function negotiateAnswer(options: NegotiateAnswerOptions): NegotiatedAnswer {
  const { offer, supported, localAddress, localPort } = options;
  const mediaIndex = findAudioStream(offer);
  if (mediaIndex < 0) throw negotiationError('the offer has no RTP audio stream', { media: offer.media.map((m) => `${m.type} ${m.proto}`) });
  const offered = offer.media[mediaIndex]!;
  const codec = pickCodec(offered, supported);
  if (!codec) {
    throw negotiationError('no common codec', { offered: getAudioCodecs(offered).map((c) => c.name), supported: [...supported] });
  }
  const telephoneEvent = options.dtmfPt === false ? null : getTelephoneEvent(offered);
  const direction = answerDirection(getDirection(offer, mediaIndex), options.direction ?? 'sendrecv');

  const answer = baseSdp(localAddress);
  answer.media = offer.media.map((m, i) => {
    if (i !== mediaIndex) return rejectedCopy(m);
    const chosen = telephoneEvent ? [codec, telephoneEvent] : [codec];
    const out: SdpMedia = {
      type: m.type,
      port: localPort,
      portCount: null,
      proto: m.proto,
      formats: chosen.map((c) => String(c.pt)),
      connection: null,
      lines: [],
      attributes: chosen.flatMap(codecAttributes),
    };
    if (options.ptime !== undefined) setPtime(out, options.ptime);
    out.attributes.push({ name: direction, value: null });
    return out;
  });
  (options.originator ?? new SdpOriginator({ address: localAddress })).stamp(answer);
  return { answer, mediaIndex, codec, telephoneEvent, direction, remote: remoteEndpoint(offer, mediaIndex) };
}

export interface BuildOfferOptions {
  localAddress: string;
  localPort: number;
  /** Codec names in preference order; static payload types where they exist (PCMU 0, PCMA 8, G722 9), else dynamic from 96. */
  codecs: readonly string[];
  /** Payload type for telephone-event (default 101), or false for none. */
  dtmfPt?: number | false;
  direction?: Direction;
  ptime?: number;
  originator?: SdpOriginator;
}

/** A fresh offer with one audio stream (RFC 3264 §5). */
export function buildOffer(options: BuildOfferOptions): Sdp {
  const dtmfPt = options.dtmfPt === undefined ? DEFAULT_DTMF_PT : options.dtmfPt;
  const codecs: SdpCodec[] = [];
  let next = 96;
  for (const want of options.codecs) {
    const [name, rateText] = want.split('/') as [string, string | undefined];
    const clockRate = rateText === undefined ? defaultClockRate(name) : Number(rateText);
    if (codecs.some((c) => codecNameEquals(c.name, name) && c.clockRate === clockRate)) continue;
    let pt = staticPayloadType(name, clockRate);
    if (pt === null) {
      while (next === dtmfPt || codecs.some((c) => c.pt === next)) next++;
      if (next > 127) throw negotiationError('too many codecs for the dynamic payload type range');
      pt = next++;
    }
    codecs.push({ pt, name, clockRate, channels: 1, fmtp: null });
  }
  if (codecs.length === 0) throw negotiationError('an offer needs at least one codec');
  if (dtmfPt !== false) {
    if (codecs.some((c) => c.pt === dtmfPt)) throw negotiationError(`telephone-event payload type ${dtmfPt} is taken by a codec`);
    codecs.push({ pt: dtmfPt, name: TELEPHONE_EVENT, clockRate: 8000, channels: 1, fmtp: '0-16' });
  }
  const offer = baseSdp(options.localAddress);
  const m: SdpMedia = {
    type: 'audio',
    port: options.localPort,
    portCount: null,
    proto: 'RTP/AVP',
    formats: codecs.map((c) => String(c.pt)),
    connection: null,
    lines: [],
    attributes: codecs.flatMap(codecAttributes),
  };
  if (options.ptime !== undefined) setPtime(m, options.ptime);
  m.attributes.push({ name: options.direction ?? 'sendrecv', value: null });
  offer.media.push(m);
  (options.originator ?? new SdpOriginator({ address: options.localAddress })).stamp(offer);
  return offer;
}

export interface RelayOfferOptions {
  /** The offer received on the other leg. */
  from: Sdp;
  /** The gateway's address facing the leg this offer goes to. */
  localAddress: string;
  /** The RTP port of that leg. */
  localPort: number;
  /** Keep only these codecs (names, optionally 'NAME/rate'), in the offerer's order; default: every audio codec it offered. */
  supported?: readonly string[];
  /** false to drop telephone-event from the relayed offer. */
  dtmf?: boolean;
  originator?: SdpOriginator;
}

export interface RelayedOffer {
  offer: Sdp;
  /** The index of the audio stream in the offer received (the relayed offer has it at index 0). */
  sourceIndex: number;
  direction: Direction;
}

/**
 * Attributes that describe A's own stream and software, which B must not be
 * told once the gateway is in the path: A's SSRCs and their grouping (RFC
 * 5576; after a re-bridge B receives the gateway's renumbered stream, not
 * A's), WebRTC stream ids (RFC 8830), bundling of m= lines the relayed offer
 * no longer has (RFC 9143), and A's software name (a=tool: topology hiding).
 */
const SOURCE_ATTRIBUTES = new Set(['ssrc', 'ssrc-group', 'msid', 'msid-semantic', 'mid', 'group', 'tool']);

function stripSourceAttributes(sdp: Sdp): void {
  sdp.attributes = sdp.attributes.filter((a) => !SOURCE_ATTRIBUTES.has(a.name.toLowerCase()));
  for (const m of sdp.media) m.attributes = m.attributes.filter((a) => !SOURCE_ATTRIBUTES.has(a.name.toLowerCase()));
}

/**
 * The offer a B2BUA sends toward leg B for an offer received from leg A:
 * A's audio stream with A's codecs and payload types (so B can pick one that
 * passes through unchanged) and A's unknown attributes, but the gateway's
 * address and port, no ICE or rtcp-mux, none of A's SSRC or software lines, and A's direction made explicit
 * (sendonly stays sendonly, inactive stays inactive, legacy c=0.0.0.0
 * becomes sendonly with the real address: RFC 3264 §8.4).
 */
export function relayOffer(options: RelayOfferOptions): RelayedOffer {
  const { from } = options;
  const sourceIndex = findAudioStream(from);
  if (sourceIndex < 0) throw negotiationError('the offer has no RTP audio stream');
  const direction = getDirection(from, sourceIndex);
  const src = from.media[sourceIndex]!;
  const m: SdpMedia = structuredClone(src);
  const audio = getAudioCodecs(m).filter((c) => options.supported === undefined || options.supported.some((w) => matches(c, w)));
  if (audio.length === 0) throw negotiationError('no codec of the offer is supported', { offered: getAudioCodecs(src).map((c) => c.name) });
  const te = options.dtmf === false ? null : getTelephoneEvent(m);
  const cn = getCodecs(m).filter((c) => codecNameEquals(c.name, 'CN'));
  keepPayloadTypes(m, [...audio, ...(te ? [te] : []), ...cn].map((c) => c.pt));
  // Static payload types may come without rtpmap; write one for each kept codec that lacks it, for clarity to B.
  const missing = getCodecs(m).filter(
    (c) => !m.attributes.some((a) => a.name.toLowerCase() === 'rtpmap' && a.value !== null && Number(a.value.trim().split(' ')[0]) === c.pt),
  );
  m.attributes.unshift(...missing.map((c) => codecAttributes({ ...c, fmtp: null })[0]!));
  const offer = baseSdp(options.localAddress);
  offer.media = [m];
  // Session-level attributes other than direction (handled below) carry over.
  offer.attributes = from.attributes.filter((a) => !(a.value === null && ['sendrecv', 'sendonly', 'recvonly', 'inactive'].includes(a.name.toLowerCase())));
  stripTransportAttributes(offer);
  stripSourceAttributes(offer);
  setMediaAddress(offer, 0, options.localAddress, options.localPort);
  setDirection(offer, direction, 0);
  (options.originator ?? new SdpOriginator({ address: options.localAddress })).stamp(offer);
  return { offer, sourceIndex, direction };
}

export interface AnswerReading {
  mediaIndex: number;
  /** The first audio codec of the answer (what the answerer will send and expects). */
  codec: SdpCodec;
  telephoneEvent: SdpCodec | null;
  /** The direction written by the answerer. */
  direction: Direction;
  remote: RemoteEndpoint | null;
}

/**
 * Check an answer against the offer the gateway sent (RFC 3264 §6, §7): same
 * number of m= lines, the audio stream accepted with a codec that was
 * offered. Throws PGW_E_SDP_NEGOTIATION otherwise.
 */
export function readAnswer(options: { offer: Sdp; answer: Sdp }): AnswerReading {
  const { offer, answer } = options;
  if (offer.media.length !== answer.media.length) {
    throw negotiationError('the answer does not have as many m= lines as the offer', { offer: offer.media.length, answer: answer.media.length });
  }
  const mediaIndex = findAudioStream(offer);
  const am = mediaIndex >= 0 ? answer.media[mediaIndex] : undefined;
  if (!am || am.port === 0) throw negotiationError('the audio stream was rejected');
  const offered = getCodecs(offer.media[mediaIndex]!);
  const codec = getAudioCodecs(am).find((c) => offered.some((o) => codecNameEquals(o.name, c.name) && o.clockRate === c.clockRate));
  if (!codec) throw negotiationError('the answer chose no codec that was offered', { answered: am.formats });
  return { mediaIndex, codec, telephoneEvent: getTelephoneEvent(am), direction: getDirection(answer, mediaIndex), remote: remoteEndpoint(answer, mediaIndex) };
}
