/**
 * Asking the media handler (SessionMediaHandler) for offers and answers, with
 * the fallbacks a session uses when it has none: a repeated offer (a session
 * refresh, same bytes as the last remote description) is answered with our
 * last answer; anything else is refused with 488 (RFC 3264 §6).
 */
import { PgwError, isPgwError } from '../../util/errors.js';
import { sameBody, type SessionBody } from './session-body.js';
import type { OfferContext, SessionMediaHandler } from './session-types.js';

/** The status a failed answerOffer() becomes: PgwError context.status, else 488 Not Acceptable Here. */
export function rejectionStatus(err: unknown): number {
  if (isPgwError(err) && typeof err.context.status === 'number') return err.context.status;
  return 488;
}

export function produceAnswer(
  handler: SessionMediaHandler | undefined,
  offer: SessionBody,
  ctx: OfferContext,
  last: { local: SessionBody | undefined; remote: SessionBody | undefined },
): Promise<SessionBody> {
  if (handler) return handler.answerOffer(offer, ctx);
  if (last.local && sameBody(offer, last.remote)) return Promise.resolve(last.local);
  return Promise.reject(new PgwError('PGW_E_SDP_NEGOTIATION', 'no media handler to answer the offer', { context: { status: 488 } }));
}

/** An offer from the handler; without one, our last description (a refresh) or nothing. */
export function produceOffer(handler: SessionMediaHandler | undefined, ctx: OfferContext, local: SessionBody | undefined): Promise<SessionBody | undefined> {
  if (handler) return handler.createOffer(ctx);
  return Promise.resolve(local);
}
