/**
 * One call through the B2BUA: the caller's INVITE session (side a), the
 * forks that ring the callee's phones (side b), and the media anchored
 * between them. Two dialogs per call, always: the phones never see each
 * other's addresses, tags or Call-IDs.
 *
 *   routing ──▶ ringing ──▶ answered ──▶ ended
 *      │           │                       ▲
 *      └───────────┴───────────────────────┘   (rejected, cancelled, failed)
 *
 * Ringing walks the ring plan (hunt-plan.ts) a step at a time: each step
 * forks an INVITE to every registered contact of its members and lasts its
 * seconds; the first 2xx wins and the other forks are cancelled. A step
 * whose forks have all failed ends early, so a busy member does not hold the
 * caller for the full ring time. Each fork is offered the gateway's address
 * on the interface that faces it (call-media.ts: a media branch per address);
 * the answering fork's branch is bridged and the others' legs closed.
 *
 * Offers in the call are relayed from one leg to the other (relayMidCallOffer).
 * A re-INVITE without an offer (RFC 3261 §14.1, RFC 6337 §5) is relayed as one:
 *
 *   leg X (asks)              gateway                          leg Y
 *   INVITE (no SDP) ──────▶  INVITE (no SDP) ───────────────────▶
 *                            ◀─────────────────────── 200 offer(Y)
 *   ◀────── 200 offer(Y) with the gateway's address toward X
 *   ACK answer(X) ────────▶  ACK answer(X) with the gateway's address toward Y ─▶
 *
 * so X is offered what Y can do now (a phone resuming its own hold must be
 * offered sendrecv, not the recvonly the gateway answered its hold with), and
 * Y learns X's answer (hold, direction, address). Y's ACK waits for X's.
 */
import type { MediaAnchor } from '../media/relay/index.js';
import { sessionBodyOf, type SessionBody } from '../sip/ua/session-body.js';
import type { InviteSession } from '../sip/ua/invite-session.js';
import type { SessionEndInfo, SessionMediaHandler } from '../sip/ua/session-types.js';
import type { UserAgentCore } from '../sip/ua/user-agent-core.js';
import type { Endpoint, TransportLayer } from '../sip/transport/api.js';
import type { SipResponse } from '../sip/message/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { PgwError, isPgwError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { CallMedia, sdpBody, sdpOf, type Side } from './call-media.js';

/**
 * How long the other leg's ACK waits for the asking leg's answer in an offerless re-INVITE
 * before the gateway answers it from the session as it was. Under 64*T1 (32 s), after which
 * that leg stops retransmitting its 2xx and ends the call for want of an ACK (RFC 3261 §13.3.1.4).
 */
export const OFFERLESS_ANSWER_WAIT_MS = 16_000;
import type { RingStep } from './hunt-plan.js';
import type { CredentialProvider } from '../sip/ua/credentials.js';

export type CallState = 'routing' | 'ringing' | 'answered' | 'ended';

const TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  routing: ['ringing', 'answered', 'ended'],
  ringing: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
};

/** How a call ended, in the terms of the NHS England monthly call data (DOMAIN.md). */
export type Disposition = 'answered' | 'missed' | 'abandoned' | 'busy' | 'failed';

export interface CallParty {
  number: string;
  name: string | null;
}

export interface CallEnd {
  disposition: Disposition;
  /** Why, for logs: bye-caller, bye-callee, no-answer, busy, cancelled, dead-media, shutdown, … */
  cause: string;
  /** The final status the caller got, when the call was not answered. */
  status?: number;
}

/**
 * One INVITE the call sends when a ring step reaches a member: a phone's
 * registered contact, or (with the uplinks) a trunk or the cloud SBC.
 */
export interface CallTarget {
  /** The member rung: an extension number, or an uplink's name. */
  member: string;
  /** Request-URI. */
  uri: string;
  /** Where the INVITE goes (a phone's latched source address, an uplink's proxy). */
  destination: Endpoint;
  /** From and To values, without tags. */
  from: string;
  to: string;
  headers?: Array<[string, string]>;
  /** For uplinks that challenge INVITEs (401/407). */
  credentials?: CredentialProvider;
  /** User part of our Contact on this leg. */
  contactUser?: string;
  /** Uplinks over TLS: the name the peer's certificate must match (RFC 5922). */
  tlsServerName?: string;
  /**
   * Uplinks (issue 6): give this fork up as failed (408) when it has had no
   * 18x or final response in this time, so an emergency call moves on to the
   * next uplink instead of waiting out Timer B on one that died since its
   * last probe.
   */
  noProgressMs?: number;
}

export interface CallDeps {
  ua: UserAgentCore;
  transport: Pick<TransportLayer, 'localFor'>;
  relay: MediaAnchor;
  clock: Clock;
  logger: Logger;
  /** Codec names in preference order. */
  codecs: readonly string[];
}

export interface CallOptions {
  id: string;
  /** The caller's INVITE session (side a). */
  a: InviteSession;
  /** The gateway address the caller's INVITE arrived on: the media address toward the caller. */
  localToCaller: string;
  caller: CallParty;
  callee: CallParty;
  /** The hunt group dialled, when it was one (call records, issue 3). */
  huntGroup?: string;
  plan: RingStep[];
  /** The INVITEs to send for a member of a ring step (none: not reachable now). */
  targetsOf: (member: string) => CallTarget[];
  /** Told once, when the call has ended. */
  onEnd: (call: B2buaCall, end: CallEnd) => void;
  onStateChange?: (call: B2buaCall, from: CallState, to: CallState) => void;
}

interface Fork {
  /** An 18x arrived (noProgressMs no longer applies). */
  progressed?: boolean;
  target: CallTarget;
  /** The gateway address facing this fork's destination: its media branch. */
  localAddress: string;
  session: InviteSession;
  done: boolean;
  status?: number;
}

export class B2buaCall {
  readonly id: string;
  readonly caller: CallParty;
  readonly callee: CallParty;
  readonly startedAt: number;
  answeredAt: number | null = null;
  endedAt: number | null = null;
  private stateValue: CallState = 'routing';
  private readonly a: InviteSession;
  private readonly media: CallMedia;
  private readonly log: Logger;
  private forks: Fork[] = [];
  private winner: Fork | null = null;
  private stepIndex = -1;
  private stepTimer: TimerHandle | null = null;
  private readonly statuses: number[] = [];
  private ringingSent = false;
  private end: CallEnd | null = null;
  /** A re-INVITE without offer being relayed (see the diagram above). */
  private offerless: OfferlessExchange | null = null;

  constructor(
    private readonly deps: CallDeps,
    private readonly options: CallOptions,
  ) {
    this.id = options.id;
    this.a = options.a;
    this.caller = options.caller;
    this.callee = options.callee;
    this.startedAt = deps.clock.now();
    this.log = deps.logger.child({ component: 'call', call: options.id });
    this.media = new CallMedia({ relay: deps.relay, codecs: deps.codecs, label: options.id });
  }

  get state(): CallState {
    return this.stateValue;
  }

  /** The member whose phone answered (an extension, or an uplink's name), once answered. */
  get answeredBy(): string | null {
    return this.answeredAt === null ? null : (this.winner?.target.member ?? null);
  }

  get huntGroup(): string | undefined {
    return this.options.huntGroup;
  }

  /** The caller's and the answering callee's sessions, for the admin API. */
  sessions(): { a: InviteSession; b: InviteSession | null } {
    return { a: this.a, b: this.winner?.session ?? null };
  }

  mediaLeg(side: Side) {
    return this.media.leg(side);
  }

  /** Route the call: open the caller's media leg and start ringing. */
  async start(): Promise<void> {
    this.a.mediaHandler = this.handlerFor('a');
    this.a.on('ended', (info) => this.onCallerEnded(info));
    const offer = sessionBodyOf(this.a.request);
    try {
      await this.media.openLeg('a', this.options.localToCaller);
      if (offer) sdpOf(offer); // refuse an unusable offer before ringing anyone
    } catch (e) {
      this.rejectCaller(statusOf(e, 503), e instanceof Error ? e.message : String(e), 'failed');
      return;
    }
    this.log.info({ caller: this.caller.number, callee: this.callee.number }, 'call routing');
    this.nextStep();
  }

  /** End the call from the gateway's side (dead media, shutdown, admin). */
  hangup(cause: string): void {
    if (this.stateValue === 'ended') return;
    if (this.stateValue === 'answered') {
      this.finish({ disposition: 'answered', cause });
      this.a.bye();
      this.winner?.session.bye();
    } else {
      this.rejectCaller(503, 'Service Unavailable', 'failed', cause);
    }
  }

  // ─────────────────────────── ringing ───────────────────────────

  private nextStep(): void {
    this.clearStepTimer();
    for (;;) {
      this.stepIndex += 1;
      const step = this.options.plan[this.stepIndex];
      if (!step) {
        this.giveUp();
        return;
      }
      if (this.startStep(step)) return;
    }
  }

  /** Fork to every contact of the step's members; false when nobody could be rung. */
  private startStep(step: RingStep): boolean {
    const targets = step.members.flatMap((member) => this.options.targetsOf(member));
    if (targets.length === 0) return false;
    const offerBody = sessionBodyOf(this.a.request);
    for (const target of targets) void this.fork(target, offerBody);
    this.stepTimer = this.deps.clock.setTimer(step.seconds * 1000, () => {
      this.log.info({ step: this.stepIndex, seconds: step.seconds }, 'no answer in time');
      this.statuses.push(480);
      this.cancelForks();
      this.nextStep();
    });
    return true;
  }

  private async fork(target: CallTarget, offerBody: SessionBody | undefined): Promise<void> {
    const local = this.deps.transport.localFor(target.destination);
    let body: SessionBody;
    try {
      await this.media.openBranch(local.address);
      if (this.stateValue === 'ended' || this.winner) return;
      body = sdpBody(this.media.offerToBranch(local.address, offerBody ? sdpOf(offerBody) : null));
    } catch (e) {
      if (this.stateValue === 'ended' || this.winner) return;
      this.log.warn({ err: e, member: target.member }, 'cannot make an offer toward the callee');
      this.statuses.push(statusOf(e, 488));
      this.checkStepExhausted();
      return;
    }
    const session = this.deps.ua.invite({
      target: target.uri,
      destination: target.destination,
      from: target.from,
      to: target.to,
      headers: target.headers ?? [],
      body,
      mediaHandler: this.handlerFor('b'),
      ...(target.contactUser !== undefined ? { contactUser: target.contactUser } : {}),
      ...(target.credentials ? { credentials: target.credentials } : {}),
      ...(target.tlsServerName !== undefined ? { tlsServerName: target.tlsServerName } : {}),
    });
    const fork: Fork = { target, localAddress: local.address, session, done: false };
    this.forks.push(fork);
    if (target.noProgressMs !== undefined) {
      this.deps.clock.setTimer(target.noProgressMs, () => {
        if (fork.done || fork.progressed || this.winner || this.stateValue === 'ended') return;
        this.log.warn({ member: target.member, ms: target.noProgressMs }, 'no response in time: trying the next');
        fork.done = true;
        fork.session.terminate();
        this.statuses.push(408);
        this.checkStepExhausted();
      });
    }
    session.on('progress', ({ response }) => this.onForkProgress(fork, response));
    session.on('answered', ({ response }) => this.onForkAnswered(fork, response));
    session.on('ended', (info) => this.onForkEnded(fork, info));
  }

  private onForkProgress(fork: Fork, response: SipResponse): void {
    fork.progressed = true;
    if (this.winner || this.stateValue === 'ended' || fork.done) return;
    if (response.status === 180 || response.status === 183) {
      if (!this.ringingSent) {
        this.ringingSent = true;
        this.a.progress({ status: 180 });
      }
      if (this.stateValue === 'routing') this.transition('ringing');
    }
  }

  private onForkAnswered(fork: Fork, response: SipResponse): void {
    if (this.winner || this.stateValue === 'ended') {
      // Answered elsewhere a moment before, or the caller has gone: end this one.
      fork.session.bye();
      return;
    }
    this.winner = fork;
    fork.done = true;
    this.clearStepTimer();
    this.cancelForks(fork);
    const body = sessionBodyOf(response);
    void this.answerCaller(body);
  }

  private async answerCaller(body: SessionBody | undefined): Promise<void> {
    const winner = this.winner!;
    winner.session.on('ended', (info) => this.onCalleeEnded(info));
    try {
      if (!body) throw new PgwError('PGW_E_SDP_NEGOTIATION', 'the callee answered without SDP');
      this.media.chooseBranch(winner.localAddress).catch((e: unknown) => this.log.warn({ err: e }, 'could not close the other callee legs'));
      const out = this.media.relayAnswer(sdpOf(body));
      await this.a.accept({ body: sdpBody(out.sdp) });
    } catch (e) {
      this.log.warn({ err: e }, 'could not answer the caller');
      winner.session.bye();
      if (this.a.state === 'incoming' || this.a.state === 'early') this.rejectCaller(statusOf(e, 488), 'Not Acceptable Here', 'failed');
      else this.finish({ disposition: 'failed', cause: 'negotiation' });
      return;
    }
    if (this.stateValue === 'ended') return;
    this.answeredAt = this.deps.clock.now();
    this.transition('answered');
    this.log.info({ callee: winner.target.member, uri: winner.target.uri }, 'call answered');
  }

  private onForkEnded(fork: Fork, info: SessionEndInfo): void {
    if (fork === this.winner) return; // handled by onCalleeEnded
    fork.done = true;
    if (info.status !== undefined) this.statuses.push(info.status);
    else if (info.cause === 'timeout') this.statuses.push(408);
    else if (info.cause === 'transport-error') this.statuses.push(503);
    this.checkStepExhausted();
  }

  /** Every fork of this step has failed: move on without waiting for the step timer. */
  private checkStepExhausted(): void {
    if (this.winner || this.stateValue === 'ended') return;
    const open = this.forks.filter((f) => !f.done);
    if (open.length > 0) return;
    this.forks = [];
    this.nextStep();
  }

  private cancelForks(except?: Fork): void {
    for (const f of this.forks) {
      if (f === except || f.done) continue;
      f.done = true;
      f.session.terminate();
    }
    this.forks = except ? [except] : [];
  }

  /** The plan is exhausted: busy if every phone said busy, else unavailable. */
  private giveUp(): void {
    const busy = this.statuses.length > 0 && this.statuses.every((s) => s === 486 || s === 600);
    if (busy) this.rejectCaller(486, 'Busy Here', 'busy', 'busy');
    else if (this.statuses.length === 0) this.rejectCaller(480, 'Temporarily Unavailable', 'missed', 'not-registered');
    else this.rejectCaller(480, 'Temporarily Unavailable', 'missed', 'no-answer');
  }

  // ─────────────────────────── ending ───────────────────────────

  private rejectCaller(status: number, reason: string, disposition: Disposition, cause = reason): void {
    if (this.stateValue === 'ended') return;
    this.clearStepTimer();
    this.cancelForks();
    this.finish({ disposition, cause, status });
    if (this.a.state === 'incoming' || this.a.state === 'early') this.a.reject({ status, reason });
  }

  private onCallerEnded(info: SessionEndInfo): void {
    if (this.stateValue === 'ended') return;
    if (this.stateValue === 'answered') {
      this.finish({ disposition: 'answered', cause: 'bye-caller' });
      this.winner?.session.bye();
      return;
    }
    // Hung up while it rang (CANCEL), or the caller's leg failed.
    this.clearStepTimer();
    this.cancelForks();
    if (this.winner) this.winner.session.bye();
    this.finish({ disposition: info.cause === 'cancelled' ? 'abandoned' : 'failed', cause: info.cause });
  }

  private onCalleeEnded(info: SessionEndInfo): void {
    if (this.stateValue === 'ended') return;
    if (this.stateValue === 'answered') {
      this.finish({ disposition: 'answered', cause: 'bye-callee' });
      this.a.bye();
      return;
    }
    // The callee's leg ended between its 2xx and our answer to the caller.
    this.rejectCaller(480, 'Temporarily Unavailable', 'failed', `callee-${info.cause}`);
  }

  private finish(end: CallEnd): void {
    if (this.end) return;
    this.end = end;
    this.clearStepTimer();
    // The other leg's 2xx still gets its ACK (without an answer, then BYE, from its session).
    this.settleOfferless(null, null, 'the call ended');
    this.endedAt = this.deps.clock.now();
    this.transition('ended');
    void this.media.close();
    this.log.info({ ...end, seconds: Math.round((this.endedAt - this.startedAt) / 1000) }, 'call ended');
    this.options.onEnd(this, end);
  }

  private clearStepTimer(): void {
    this.stepTimer?.cancel();
    this.stepTimer = null;
  }

  private transition(to: CallState): void {
    const from = this.stateValue;
    if (from === to) return;
    if (!TRANSITIONS[from].includes(to)) {
      throw new PgwError('PGW_E_STATE_TRANSITION', `call ${this.id}: ${from} → ${to} is not allowed`);
    }
    this.stateValue = to;
    this.log.debug({ from, to }, 'call state');
    this.options.onStateChange?.(this, from, to);
  }

  // ─────────────────────────── offers in the call ───────────────────────────

  /** What each SIP leg asks the media side for: offers from one side are relayed to the other. */
  private handlerFor(side: Side): SessionMediaHandler {
    return {
      createOffer: async (ctx) => {
        // The leg's re-INVITE came without an offer: ours goes in the 2xx, made from the other leg's.
        if (ctx.reason === 'reinvite' && ctx.carrier === '2xx') return this.relayOfferlessReinvite(side);
        // A refresh or a re-INVITE we must send without news: repeat the last SDP (same o= version).
        const last = this.media.lastSentTo(side);
        if (!last) throw new PgwError('PGW_E_SDP_NEGOTIATION', 'no session description to repeat');
        return sdpBody(last);
      },
      answerOffer: async (body, ctx) => {
        if (ctx.reason === 'initial' || ctx.reason === 'late') throw new PgwError('PGW_E_SDP_NEGOTIATION', 'initial offers are answered by the call');
        // The offer in the 2xx to the offerless re-INVITE the call relayed to this leg.
        if (ctx.carrier === '2xx') return this.relayOfferFrom2xx(side, body);
        return this.relayMidCallOffer(side, body);
      },
      applyAnswer: (body, ctx) => {
        // Answers to offers the call relayed in requests come back through fork/relayMidCallOffer.
        // The answers applied here are in ACKs, to the gateway's offer in a 2xx: to an offerless
        // re-INVITE from this leg (relayed on to the other leg; reason 'reinvite'), or, on the
        // caller's leg, to a late-offer INVITE (reason 'initial').
        if (ctx.carrier !== '2xx') return;
        if (this.offerless?.from === side) {
          this.completeOfferless(side, body);
          return;
        }
        if (side === 'a' && this.media.awaitingLateAnswer('a')) {
          this.media.applyLateAnswer('a', sdpOf(body));
          return;
        }
        if (ctx.reason === 'initial' && side === 'b') return; // the callee's answer in its 2xx: answerCaller
        this.log.warn({ side }, 'an answer in an ACK that no offer of the call is waiting for: ignored');
      },
      answerMissing: () => {
        // The asker's ACK came without the answer it owed: both legs keep the session they had.
        const exchange = this.offerless;
        if (exchange?.from !== side) return;
        this.log.warn({ side }, 'offerless re-INVITE: the ACK brought no answer; both sides keep the session they had');
        this.settleOfferless(exchange, 'keep');
      },
    };
  }

  private sessionOf(side: Side): InviteSession | null {
    return side === 'a' ? this.a : (this.winner?.session ?? null);
  }

  /**
   * Leg `from` sent a re-INVITE without an offer: send one without an offer to the other leg, and
   * resolve with that leg's offer (in its 2xx) made for `from`. The other leg's ACK then waits for
   * `from`'s answer (completeOfferless). A refusal goes back as the other leg gave it (491: the
   * asker retries after its own §14.1 wait); the session stays as it was (RFC 3261 §14.1).
   */
  private async relayOfferlessReinvite(from: Side): Promise<SessionBody> {
    const target = this.sessionOf(other(from));
    if (!target || this.stateValue !== 'answered' || this.offerless) {
      throw new PgwError('PGW_E_SDP_NEGOTIATION', 'the other side cannot take a re-INVITE now', { context: { status: 491 } });
    }
    const exchange: OfferlessExchange = { from, offerTo: null, unusable: false, answerFor: null, guard: null };
    this.offerless = exchange;
    let response: SipResponse;
    try {
      response = await target.reinvite({ offer: false, retryGlare: false });
    } catch (e) {
      // That leg has an exchange of its own in flight: glare, seen from here (RFC 3261 §14.1).
      this.dropOfferless(exchange);
      throw new PgwError('PGW_E_SDP_NEGOTIATION', 'the other side is busy with an offer', { cause: e, context: { status: 491 } });
    }
    if (this.offerless !== exchange) {
      throw new PgwError('PGW_E_SDP_NEGOTIATION', 'the call ended while the other side was asked for an offer', { context: { status: 481 } });
    }
    if (response.status >= 300 || !exchange.offerTo) {
      this.dropOfferless(exchange);
      if (response.status < 300) {
        // No offer in its 2xx (which it owed, RFC 3264 §4): its session ACKed it and nothing changed.
        // An offer the gateway cannot use: its session ACKs it and ends that leg.
        const what = exchange.unusable ? 'an offer the gateway cannot use' : 'no offer';
        throw new PgwError('PGW_E_SDP_NEGOTIATION', `the other side sent ${what} in its 2xx`, { context: { status: 488 } });
      }
      const status = response.status === 491 ? 491 : 488;
      throw new PgwError('PGW_E_SDP_NEGOTIATION', `the other side refused the re-INVITE (${response.status})`, { context: { status } });
    }
    this.log.debug({ from }, 'offerless re-INVITE: the other side offered; waiting for the answer in the ACK');
    exchange.guard = this.deps.clock.setTimer(OFFERLESS_ANSWER_WAIT_MS, () => {
      this.log.warn({ side: from, ms: OFFERLESS_ANSWER_WAIT_MS }, 'offerless re-INVITE: no answer in the ACK in time; the other side keeps the session it had');
      this.settleOfferless(exchange, 'keep');
    });
    return exchange.offerTo;
  }

  /** The other leg's offer in its 2xx to our offerless re-INVITE: relay it to the asker; the answer for the ACK comes later. */
  private relayOfferFrom2xx(side: Side, body: SessionBody): Promise<SessionBody> {
    const exchange = this.offerless;
    if (!exchange || other(exchange.from) !== side || exchange.answerFor) {
      return Promise.reject(new PgwError('PGW_E_SDP_NEGOTIATION', 'an offer in a 2xx the call did not ask for'));
    }
    try {
      exchange.offerTo = sdpBody(this.media.relayOffer(side, sdpOf(body)));
    } catch (e) {
      // Nothing in it the gateway can use: its session ACKs and ends that leg (no answer can be made).
      exchange.unusable = true;
      throw e;
    }
    return new Promise<SessionBody>((resolve, reject) => {
      exchange.answerFor = { resolve, reject };
    });
  }

  /** The asker's answer in its ACK: it goes on, translated, in the other leg's ACK. */
  private completeOfferless(from: Side, body: SessionBody): void {
    const exchange = this.offerless!;
    let answer: SessionBody;
    try {
      answer = sdpBody(this.media.relayAnswer(sdpOf(body)).sdp);
    } catch (e) {
      // An answer the gateway cannot use: the other leg keeps its session, and so does this one's media.
      this.log.warn({ err: e, side: from }, 'offerless re-INVITE: unusable answer in the ACK; the other side keeps the session it had');
      this.settleOfferless(exchange, 'keep');
      return;
    }
    this.log.debug({ from }, 'offerless re-INVITE: answer relayed');
    this.settleOfferless(exchange, answer);
  }

  /**
   * End the offerless exchange: the other leg's ACK carries `answer`, or the answer that keeps its
   * session as it was ('keep'), or (null: the call ended) nothing, and its session ends the leg.
   */
  private settleOfferless(exchange: OfferlessExchange | null, answer: SessionBody | 'keep' | null, why = 'the call ended'): void {
    const ex = exchange ?? this.offerless;
    if (!ex || this.offerless !== ex) return;
    this.dropOfferless(ex);
    const waiting = ex.answerFor;
    if (!waiting) return; // the other leg has not offered yet: nothing was relayed
    if (answer === null) {
      // E.g. the asker's ACK came without the answer it owed: its session ended that leg (RFC 3261 §13.2.2.4).
      this.log.warn({ side: ex.from, why }, 'offerless re-INVITE: no answer to relay; the other leg gets an ACK without one');
      this.media.abandonOffer();
      waiting.reject(new PgwError('PGW_E_SDP_NEGOTIATION', why));
      return;
    }
    if (answer !== 'keep') {
      waiting.resolve(answer);
      return;
    }
    try {
      waiting.resolve(sdpBody(this.media.answerKeepingPrevious()));
    } catch (e) {
      this.media.abandonOffer();
      waiting.reject(e);
    }
  }

  private dropOfferless(exchange: OfferlessExchange): void {
    exchange.guard?.cancel();
    exchange.guard = null;
    if (this.offerless === exchange) this.offerless = null;
  }

  private async relayMidCallOffer(from: Side, body: SessionBody): Promise<SessionBody> {
    const offer = sdpOf(body);
    const same = this.media.unchangedAnswer(from, offer);
    if (same) return sdpBody(same);
    const target = from === 'a' ? this.winner?.session : this.a;
    // While an offerless re-INVITE is relayed, the legs' sessions refuse most offers themselves;
    // one that slips through (an UPDATE from the leg asked for an offer) would take the relay's turn.
    if (!target || this.stateValue !== 'answered' || this.offerless) {
      throw new PgwError('PGW_E_SDP_NEGOTIATION', 'the other side cannot take an offer now', { context: { status: 491 } });
    }
    const relayed = this.media.relayOffer(from, offer);
    let response: SipResponse;
    try {
      // A 491 goes back to the offerer, who retries after its own §14.1 wait (glare.test.ts).
      response = await target.reinvite({ body: sdpBody(relayed), retryGlare: false });
    } catch (e) {
      // The other leg has an offer of its own in flight: glare, seen from here (RFC 3261 §14.1).
      this.media.abandonOffer();
      throw new PgwError('PGW_E_SDP_NEGOTIATION', 'the other side is busy with an offer', { cause: e, context: { status: 491 } });
    }
    if (response.status >= 300) {
      this.media.abandonOffer();
      const status = response.status === 491 ? 491 : 488;
      throw new PgwError('PGW_E_SDP_NEGOTIATION', `the other side refused the offer (${response.status})`, { context: { status } });
    }
    const answer = sessionBodyOf(response);
    if (!answer) throw new PgwError('PGW_E_SDP_NEGOTIATION', 'the other side answered without SDP', { context: { status: 488 } });
    return sdpBody(this.media.relayAnswer(sdpOf(answer)).sdp);
  }
}

interface OfferlessExchange {
  /** The leg whose re-INVITE came without an offer. */
  from: Side;
  /** The other leg's offer (from its 2xx), made for `from`. */
  offerTo: SessionBody | null;
  /** The other leg's 2xx carried an offer the gateway could not relay. */
  unusable: boolean;
  /** Settles the answer the other leg's session waits for to put in its ACK. */
  answerFor: { resolve: (answer: SessionBody) => void; reject: (e: unknown) => void } | null;
  guard: TimerHandle | null;
}

const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

function statusOf(e: unknown, fallback: number): number {
  if (isPgwError(e)) {
    const s = e.context.status;
    if (typeof s === 'number') return s;
    if (e.code === 'PGW_E_MEDIA_PORTS') return 503;
    if (e.code === 'PGW_E_SDP_PARSE') return 400;
    if (e.code === 'PGW_E_SDP_NEGOTIATION') return 488;
  }
  return fallback;
}
