/**
 * Codecs of an SDP media section: rtpmap/fmtp (RFC 4566 §6), the static
 * payload types of RFC 3551 §6 table 4, telephone-event (RFC 4733) and ptime.
 */
import type { SdpAttribute, SdpMedia } from './sdp-types.js';

export interface SdpCodec {
  pt: number;
  /** Encoding name as written (compare with codecNameEquals: names are case-insensitive, RFC 4855 §3). */
  name: string;
  /** RTP clock rate. G722 is 8000 here although it samples at 16 kHz (RFC 3551 §4.5.2, an erratum kept for compatibility). */
  clockRate: number;
  channels: number;
  fmtp: string | null;
}

interface StaticPt {
  name: string;
  clockRate: number;
  channels: number;
}

/** RFC 3551 §6, table 4 (audio). */
export const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, StaticPt> = new Map([
  [0, { name: 'PCMU', clockRate: 8000, channels: 1 }],
  [3, { name: 'GSM', clockRate: 8000, channels: 1 }],
  [4, { name: 'G723', clockRate: 8000, channels: 1 }],
  [5, { name: 'DVI4', clockRate: 8000, channels: 1 }],
  [6, { name: 'DVI4', clockRate: 16000, channels: 1 }],
  [7, { name: 'LPC', clockRate: 8000, channels: 1 }],
  [8, { name: 'PCMA', clockRate: 8000, channels: 1 }],
  [9, { name: 'G722', clockRate: 8000, channels: 1 }],
  [10, { name: 'L16', clockRate: 44100, channels: 2 }],
  [11, { name: 'L16', clockRate: 44100, channels: 1 }],
  [12, { name: 'QCELP', clockRate: 8000, channels: 1 }],
  [13, { name: 'CN', clockRate: 8000, channels: 1 }],
  [14, { name: 'MPA', clockRate: 90000, channels: 1 }],
  [15, { name: 'G728', clockRate: 8000, channels: 1 }],
  [16, { name: 'DVI4', clockRate: 11025, channels: 1 }],
  [17, { name: 'DVI4', clockRate: 22050, channels: 1 }],
  [18, { name: 'G729', clockRate: 8000, channels: 1 }],
]);

/** The static payload type of a codec name, if it has one (PCMU 0, PCMA 8, G722 9, ...). */
export function staticPayloadType(name: string, clockRate = 8000): number | null {
  for (const [pt, c] of STATIC_PAYLOAD_TYPES) {
    if (codecNameEquals(c.name, name) && c.clockRate === clockRate) return pt;
  }
  return null;
}

/** The clock rate RTP uses for a codec name (G722: 8000, RFC 3551 §4.5.2). */
export function defaultClockRate(name: string): number {
  const pt = staticPayloadType(name);
  if (pt !== null) return STATIC_PAYLOAD_TYPES.get(pt)!.clockRate;
  return codecNameEquals(name, 'opus') ? 48000 : 8000;
}

export function codecNameEquals(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export const TELEPHONE_EVENT = 'telephone-event';

export function findAttribute(attrs: readonly SdpAttribute[], name: string): SdpAttribute | undefined {
  return attrs.find((a) => a.name.toLowerCase() === name.toLowerCase());
}

/** `a=rtpmap:<pt> <name>/<rate>[/<channels>]` (RFC 4566 §6) for one payload type. */
function rtpmapFor(m: SdpMedia, pt: number): { name: string; clockRate: number; channels: number } | null {
  for (const a of m.attributes) {
    if (a.name.toLowerCase() !== 'rtpmap' || a.value === null) continue;
    const r = /^\s*(\d+)\s+([^/\s]+)\/(\d+)(?:\/(\d+))?\s*$/.exec(a.value);
    if (!r || Number(r[1]) !== pt) continue;
    return { name: r[2]!, clockRate: Number(r[3]), channels: r[4] === undefined ? 1 : Number(r[4]) };
  }
  return null;
}

export function fmtpFor(m: SdpMedia, pt: number): string | null {
  for (const a of m.attributes) {
    if (a.name.toLowerCase() !== 'fmtp' || a.value === null) continue;
    const sp = a.value.indexOf(' ');
    const head = sp < 0 ? a.value : a.value.slice(0, sp);
    if (Number(head) === pt && /^\d+$/.test(head)) return sp < 0 ? '' : a.value.slice(sp + 1).trim();
  }
  return null;
}

/**
 * The codecs of a media section in m= line order (which is the sender's
 * preference order, RFC 3264 §5.1). An rtpmap wins over the static table;
 * a dynamic payload type without rtpmap is skipped (it cannot be known).
 */
export function getCodecs(m: SdpMedia): SdpCodec[] {
  const out: SdpCodec[] = [];
  for (const f of m.formats) {
    if (!/^\d+$/.test(f)) continue;
    const pt = Number(f);
    if (pt > 127) continue;
    const map = rtpmapFor(m, pt) ?? STATIC_PAYLOAD_TYPES.get(pt) ?? null;
    if (!map) continue;
    out.push({ pt, name: map.name, clockRate: map.clockRate, channels: map.channels, fmtp: fmtpFor(m, pt) });
  }
  return out;
}

/** The telephone-event codec (RFC 4733 §7.1.1), preferring the 8000 Hz one that G.711/G.722 calls use. */
export function getTelephoneEvent(m: SdpMedia): SdpCodec | null {
  const te = getCodecs(m).filter((c) => codecNameEquals(c.name, TELEPHONE_EVENT));
  return te.find((c) => c.clockRate === 8000) ?? te[0] ?? null;
}

/** The audio codecs proper: without telephone-event and comfort noise. */
export function getAudioCodecs(m: SdpMedia): SdpCodec[] {
  return getCodecs(m).filter((c) => !codecNameEquals(c.name, TELEPHONE_EVENT) && !codecNameEquals(c.name, 'CN'));
}

function numericAttribute(m: SdpMedia, name: string): number | null {
  const a = findAttribute(m.attributes, name);
  if (!a || a.value === null) return null;
  const n = Number(a.value.trim());
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** a=ptime in milliseconds (RFC 4566 §6), or null. */
export function getPtime(m: SdpMedia): number | null {
  return numericAttribute(m, 'ptime');
}

export function getMaxPtime(m: SdpMedia): number | null {
  return numericAttribute(m, 'maxptime');
}

/** Replace or add a=ptime. */
export function setPtime(m: SdpMedia, ms: number | null): void {
  m.attributes = m.attributes.filter((a) => a.name.toLowerCase() !== 'ptime');
  if (ms !== null) m.attributes.push({ name: 'ptime', value: String(ms) });
}

/** The rtpmap and fmtp attributes that describe one codec. */
export function codecAttributes(c: SdpCodec): SdpAttribute[] {
  const enc = c.channels > 1 ? `${c.name}/${c.clockRate}/${c.channels}` : `${c.name}/${c.clockRate}`;
  const out: SdpAttribute[] = [{ name: 'rtpmap', value: `${c.pt} ${enc}` }];
  if (c.fmtp !== null && c.fmtp !== '') out.push({ name: 'fmtp', value: `${c.pt} ${c.fmtp}` });
  return out;
}

/**
 * Keep only the given payload types in a media section: the m= format list
 * and their rtpmap/fmtp lines (other attributes untouched, in order).
 */
export function keepPayloadTypes(m: SdpMedia, pts: readonly number[]): void {
  const keep = new Set(pts);
  m.formats = m.formats.filter((f) => /^\d+$/.test(f) && keep.has(Number(f)));
  m.attributes = m.attributes.filter((a) => {
    const n = a.name.toLowerCase();
    if ((n !== 'rtpmap' && n !== 'fmtp') || a.value === null) return true;
    const head = /^\s*(\d+)/.exec(a.value);
    return head !== null && keep.has(Number(head[1]));
  });
}
