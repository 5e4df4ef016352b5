/**
 * The serializer (RFC 3261 §7): start line, header lines in order with their
 * canonical names (Headers stores them so), the blank line, the body.
 *
 * Content-Length is always written and always the body's byte length: an
 * existing one is replaced in place (its other copies dropped), a missing one
 * is added last. Stream transports need it (§18.3) and a wrong one is the
 * classic framing bug. A CR or LF inside a value would inject a header line,
 * so it is written as SP.
 */
import type { SipMessage } from './types.js';

function clean(v: string): string {
  if (v.indexOf('\r') < 0 && v.indexOf('\n') < 0) return v;
  return v.replace(/\r\n|\r|\n/g, ' ');
}

export function serializeMessage(m: SipMessage): Buffer {
  let head =
    m.kind === 'request'
      ? `${clean(m.method)} ${clean(m.uri)} SIP/2.0\r\n`
      : `SIP/2.0 ${m.status} ${clean(m.reason)}\r\n`;
  const length = `Content-Length: ${m.body.length}\r\n`;
  let wroteLength = false;
  for (const f of m.headers.entries()) {
    if (f.name === 'Content-Length') {
      if (!wroteLength) head += length;
      wroteLength = true;
      continue;
    }
    head += f.value.length === 0 ? f.name + ':\r\n' : f.name + ': ' + clean(f.value) + '\r\n';
  }
  if (!wroteLength) head += length;
  head += '\r\n';
  const h = Buffer.from(head, 'utf8');
  return m.body.length === 0 ? h : Buffer.concat([h, m.body], h.length + m.body.length);
}
