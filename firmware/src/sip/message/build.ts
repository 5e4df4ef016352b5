/**
 * Building messages: responses to a request (RFC 3261 §8.2.6), reason
 * phrases, and the random identifiers (ids.ts).
 */
import { Headers } from './headers.js';
import { nameAddrTag } from './name-addr.js';
import { reasonPhrase } from './reason-phrases.js';
import type { SipRequest, SipResponse } from './types.js';

export { reasonPhrase } from './reason-phrases.js';
export { generateBranch, generateCallId, generateTag } from './ids.js';

export interface CreateResponseOptions {
  /** Added to To when the request's To has no tag (§8.2.6.2). */
  toTag?: string;
  /** Extra header lines, appended in order after the copied ones. */
  headers?: [string, string][];
  body?: Buffer;
  /** Content-Type of the body. */
  contentType?: string;
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * A response to `req` per §8.2.6.2: every Via in order, From, To, Call-ID and
 * CSeq copied unchanged, a To tag added when asked for and the request had
 * none (a To tag already there is never changed), Timestamp copied into a 100
 * (§8.2.6.1). Record-Route copying for dialog-creating responses (§12.1.1) is
 * the dialog layer's: pass them in `headers`.
 */
export function createResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  opts: CreateResponseOptions = {},
): SipResponse {
  const headers = new Headers();
  for (const v of req.headers.getAll('Via')) headers.append('Via', v);
  const from = req.headers.get('From');
  if (from !== undefined) headers.append('From', from);
  let to = req.headers.get('To');
  if (to !== undefined) {
    if (opts.toTag !== undefined && nameAddrTag(to) === undefined) to = `${to};tag=${opts.toTag}`;
    headers.append('To', to);
  }
  const callId = req.headers.get('Call-ID');
  if (callId !== undefined) headers.append('Call-ID', callId);
  const cseq = req.headers.get('CSeq');
  if (cseq !== undefined) headers.append('CSeq', cseq);
  if (status === 100) {
    const ts = req.headers.get('Timestamp');
    if (ts !== undefined) headers.append('Timestamp', ts);
  }
  for (const [name, value] of opts.headers ?? []) headers.append(name, value);
  const body = opts.body ?? EMPTY;
  if (opts.contentType !== undefined && body.length > 0) headers.set('Content-Type', opts.contentType);
  headers.set('Content-Length', String(body.length));
  return { kind: 'response', status, reason: reason ?? reasonPhrase(status), headers, body };
}
