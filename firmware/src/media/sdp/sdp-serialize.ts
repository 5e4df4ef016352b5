/**
 * SDP serializer. Emits lines in the order RFC 4566 §5 requires (v, o, s, i,
 * u, e, p, c, b, t, r, z, k, a; per media m, i, c, b, k, a), keeping the
 * relative order of the raw lines the parser kept, with CRLF line ends.
 */
import type { Sdp, SdpAttribute, SdpConnection, SdpLine, SdpMedia } from './sdp-types.js';

/** Session-level line types that come before c= (RFC 4566 §5). */
const BEFORE_CONNECTION = new Set(['i', 'u', 'e', 'p']);

function attr(a: SdpAttribute): string {
  return a.value === null ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}

function conn(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}`;
}

function raw(l: SdpLine): string {
  return `${l.type}=${l.value}`;
}

function mediaLines(m: SdpMedia, out: string[]): void {
  const port = m.portCount === null ? `${m.port}` : `${m.port}/${m.portCount}`;
  out.push(`m=${[m.type, port, m.proto, ...m.formats].join(' ')}`);
  for (const l of m.lines) if (l.type === 'i') out.push(raw(l));
  if (m.connection) out.push(conn(m.connection));
  for (const l of m.lines) if (l.type !== 'i') out.push(raw(l));
  for (const a of m.attributes) out.push(attr(a));
}

export function serializeSdp(sdp: Sdp): string {
  const o = sdp.origin;
  const out: string[] = [
    `v=${sdp.version}`,
    `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`,
    `s=${sdp.sessionName}`,
  ];
  for (const l of sdp.lines) if (BEFORE_CONNECTION.has(l.type)) out.push(raw(l));
  if (sdp.connection) out.push(conn(sdp.connection));
  for (const l of sdp.lines) if (!BEFORE_CONNECTION.has(l.type)) out.push(raw(l));
  for (const a of sdp.attributes) out.push(attr(a));
  for (const m of sdp.media) mediaLines(m, out);
  return out.join('\r\n') + '\r\n';
}

/** A deep copy, for editing an SDP without touching the one it came from. */
export function cloneSdp(sdp: Sdp): Sdp {
  return structuredClone(sdp);
}
