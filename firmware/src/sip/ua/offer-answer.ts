/**
 * The offer/answer state of one session (RFC 3264 §4, RFC 6337 §2-3).
 *
 *                 local offer sent
 *      ┌──────── stable ◄───────────────────────────┐
 *      │           │  ▲                              │ remote answer
 *      │           │  └────── local answer ────┐     │ (or rollback)
 *      │ remote    ▼                           │     │
 *      │ offer   local-offer ─────────────────────────┘
 *      ▼
 *   remote-offer ── local answer (or rejection: rollback) ──► stable
 *
 * Only one offer may be outstanding at a time in a dialog; the UA layer uses
 * this state to refuse a second one (491 / 500 with Retry-After). Bodies are
 * opaque here.
 */
import type { Logger } from '../../util/logger.js';
import { silentLogger } from '../../util/logger.js';
import { StateMachine, type TransitionTable } from '../../util/state-machine.js';
import type { SessionBody } from './session-body.js';

export type OfferAnswerState = 'stable' | 'local-offer' | 'remote-offer';

const TRANSITIONS: TransitionTable<OfferAnswerState> = {
  stable: ['local-offer', 'remote-offer'],
  'local-offer': ['stable'],
  'remote-offer': ['stable'],
};

/** Where an offer travels, so the answer is looked for in the right place. */
export type OfferCarrier = 'invite' | 'reinvite' | 'update' | 'prack' | 'reliable-1xx' | '2xx';

export class OfferAnswer {
  private readonly machine: StateMachine<OfferAnswerState>;
  private pending: { body: SessionBody; carrier: OfferCarrier } | undefined;
  /** The last description each side made that took effect (offer then answer). */
  local: SessionBody | undefined;
  remote: SessionBody | undefined;
  /** How many offer/answer exchanges completed. */
  completed = 0;

  constructor(logger: Logger = silentLogger()) {
    this.machine = new StateMachine<OfferAnswerState>('offer-answer', 'stable', TRANSITIONS, logger);
  }

  get state(): OfferAnswerState {
    return this.machine.state;
  }

  /** The outstanding offer, if any, and what carried it. */
  get pendingOffer(): { body: SessionBody; carrier: OfferCarrier } | undefined {
    return this.pending;
  }

  localOffer(body: SessionBody, carrier: OfferCarrier): void {
    this.machine.transition('local-offer');
    this.pending = { body, carrier };
  }

  remoteOffer(body: SessionBody, carrier: OfferCarrier): void {
    this.machine.transition('remote-offer');
    this.pending = { body, carrier };
  }

  /** Our answer to the pending remote offer. */
  localAnswer(body: SessionBody): void {
    const offer = this.pending;
    this.machine.transition('stable');
    this.remote = offer?.body;
    this.local = body;
    this.pending = undefined;
    this.completed++;
  }

  /** The peer's answer to our pending offer. */
  remoteAnswer(body: SessionBody): void {
    const offer = this.pending;
    this.machine.transition('stable');
    this.local = offer?.body;
    this.remote = body;
    this.pending = undefined;
    this.completed++;
  }

  /** The offer was refused (4xx/491/488, or we refused it): nothing changes (RFC 3264 §8, RFC 6337 §3.4). */
  rollback(): void {
    if (this.state !== 'stable') this.machine.transition('stable');
    this.pending = undefined;
  }
}
