/**
 * Session descriptions as the SIP layer sees them: opaque bytes with a
 * content type. SDP semantics (codecs, hold directions) live in media/.
 */
import type { SipMessage } from '../message/types.js';

export interface SessionBody {
  contentType: string;
  body: Buffer;
}

/** The body of a message as a SessionBody, or undefined when it has none. */
export function sessionBodyOf(message: SipMessage): SessionBody | undefined {
  if (message.body.length === 0) return undefined;
  const ct = message.headers.get('Content-Type')?.trim();
  // RFC 3261 §20.15: a body without Content-Type is malformed; SDP is the only thing an INVITE carries in practice.
  return { contentType: ct && ct !== '' ? ct : 'application/sdp', body: message.body };
}

export function sameBody(a: SessionBody | undefined, b: SessionBody | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.contentType.toLowerCase() === b.contentType.toLowerCase() && a.body.equals(b.body);
}
