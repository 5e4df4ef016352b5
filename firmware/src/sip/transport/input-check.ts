/**
 * Answering bad requests (issue 2, "Bad input"; RFC 3261 §8.2, §16.3).
 *
 * parseMessage() already rejects messages missing a mandatory header or with
 * a CSeq that disagrees with the request line, and hands back what it could
 * read. A response is only worth sending when the client can parse it and
 * match it to its transaction: it needs the top Via and CSeq (§17.1.3) and,
 * to parse at all, From, To and Call-ID (§8.1.1, all copied per §8.2.6.2).
 * A request missing one of those is dropped. ACK is never answered (§17.1.1.3).
 */
import { parseCSeq } from '../message/index.js';
import type { SipRequest } from '../message/types.js';
import { readTopVia } from './via-stamp.js';

/** Why no response can be sent to this broken request, or undefined when one can. */
export function whyUnanswerable(request: SipRequest): string | undefined {
  if (request.method === 'ACK') return 'an ACK is never answered';
  const via = readTopVia(request);
  if (!via) return 'no usable Via';
  for (const name of ['From', 'To', 'Call-ID'] as const) {
    if (request.headers.get(name) === undefined) return `no ${name}`;
  }
  const cseq = request.headers.get('CSeq');
  if (cseq === undefined) return 'no CSeq';
  try {
    parseCSeq(cseq);
  } catch {
    return 'unreadable CSeq';
  }
  return undefined;
}

/** A 400 reason phrase carrying the problem: printable, one line, bounded. */
export function badRequestReason(problem: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = problem.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 100);
  return clean ? `Bad Request (${clean})` : 'Bad Request';
}
