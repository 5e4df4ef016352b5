/**
 * An INVITE session, as UAC or UAS (RFC 3261 §13-15), with offer/answer
 * (RFC 3264, RFC 6337), reliable provisionals (RFC 3262), UPDATE (RFC 3311)
 * and session timers (RFC 4028), on top of the TransactionLayer.
 *
 *   UAC:  calling ──1xx──► early ──2xx──► [connecting] ──ACK sent──► confirmed
 *   UAS:  incoming ──1xx sent──► early ──2xx sent──► connecting ──ACK──► confirmed
 *
 *   calling/early ──cancel()──► terminating ──487 / 64*T1──► terminated
 *   connecting/confirmed ──bye()──► terminating ──BYE final──► terminated
 *   any ──rejection, BYE received, timeout, transport error──► terminated
 *
 * (UAC `connecting`: the 2xx carried an offer and the answer for the ACK is
 * being made; UAS `connecting`: our 2xx is retransmitted until the ACK.)
 *
 * The SIP layer treats bodies as opaque: a SessionMediaHandler (media/ via
 * pbx/) makes offers and answers; without one, a re-offer identical to the
 * last one is answered with our last answer (a session refresh), and any
 * other offer is refused with 488.
 */
import type { TimerHandle } from '../../util/clock.js';
import { PgwError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { Dialog } from '../dialog/dialog.js';
import { cseqOf, headerValues, optionTags, tagOf, withTag } from '../dialog/header-utils.js';
import { createResponse, generateCallId, generateTag } from '../message/index.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import { StateMachine, type TransitionTable } from '../../util/state-machine.js';
import type { ClientTransaction, ServerTransaction } from '../transaction/api.js';
import type { Endpoint, InboundMessage } from '../transport/api.js';
import { AuthRetry, replaceHeader, type CredentialProvider } from './credentials.js';
import { sendInDialog, type InDialogSendOptions } from './in-dialog-sender.js';
import { produceAnswer, produceOffer, rejectionStatus } from './media-delegate.js';
import { buildCancel, buildInitialInvite } from './request-builders.js';
import { glareRetryDelayMs, overlapRetryAfterSeconds } from './glare.js';
import { OfferAnswer, type OfferCarrier } from './offer-answer.js';
import {
  ReliableProvisionalReceiver,
  ReliableProvisionalSender,
  parseRAck,
  parseRSeq,
} from './reliable-provisional.js';
import { Retransmitter } from './retransmitter.js';
import { sessionBodyOf, type SessionBody } from './session-body.js';
import {
  SessionTimer,
  minSEOf,
  requestTimerHeaders,
  uacTimerFromResponse,
  uasTimerDecision,
  type SessionTimerConfig,
  type UasTimerDecision,
} from './session-timer.js';
import type {
  IncomingSessionOptions,
  InviteSessionEvents,
  InviteSessionState,
  OfferContext,
  OutgoingInviteOptions,
  SessionEndCause,
  SessionEndInfo,
  SessionHost,
  SessionMediaHandler,
} from './session-types.js';
import { TypedEvents } from './typed-events.js';
import { supportedOptionTags } from './ua-config.js';

const TRANSITIONS: TransitionTable<InviteSessionState> = {
  calling: ['early', 'connecting', 'confirmed', 'terminating', 'terminated'],
  incoming: ['early', 'connecting', 'terminated'],
  early: ['connecting', 'confirmed', 'terminating', 'terminated'],
  connecting: ['confirmed', 'terminating', 'terminated'],
  confirmed: ['terminating', 'terminated'],
  terminating: ['terminated'],
  terminated: [],
};

/** A stand-in final response for a timeout (408) or transport error (503), RFC 3261 §8.1.3.1. */
function synthetic(request: SipRequest, status: 408 | 481 | 503): SipResponse {
  return createResponse(request, status);
}

const is2xx = (r: SipResponse): boolean => r.status >= 200 && r.status < 300;

type Init =
  | { role: 'uac'; options: OutgoingInviteOptions }
  | { role: 'uas'; request: SipRequest; tx: ServerTransaction; options: IncomingSessionOptions };

export class InviteSession {
  readonly role: 'uac' | 'uas';
  readonly callId: string;
  /** Our tag (From for the UAC, To for the UAS). */
  readonly localTag: string;
  /** Where in-dialog requests go: the UAC's destination, or where the UAS's INVITE came from (symmetric, NAT-safe). */
  readonly destination: Endpoint;
  mediaHandler: SessionMediaHandler | undefined;
  credentials: CredentialProvider | undefined;
  /** TLS name of the peer (UAC sessions toward TLS trunks). */
  readonly tlsServerName: string | undefined;

  private readonly host: SessionHost;
  private readonly log: Logger;
  private readonly events: TypedEvents<InviteSessionEvents>;
  private readonly machine: StateMachine<InviteSessionState>;
  private readonly oa: OfferAnswer;
  private readonly timer: SessionTimer;
  private readonly st: SessionTimerConfig;
  private readonly contactUser: string | undefined;
  private dialogValue: Dialog | undefined;
  private endInfoValue: SessionEndInfo | undefined;
  /** Negotiated (or preferred) session interval and our Min-SE, seconds. */
  private sessionInterval: number;
  private minSE: number;
  private timerLocalRefresher: boolean | undefined;
  private peerAllow = new Set<string>();
  /** ACKs we sent for 2xx, by CSeq, re-sent for every 2xx retransmission (§13.2.2.4). */
  private readonly acks = new Map<number, SipRequest>();
  /** Our 2xx to INVITEs waiting for their ACK, by CSeq (§13.3.1.4). */
  private readonly pending2xx = new Map<number, Retransmitter>();
  private outgoingInvite = false;
  private incomingInvite: { tx: ServerTransaction; cseq: number } | undefined;
  private glareTimer: TimerHandle | undefined;
  private pendingBye = false;
  private byeSent = false;

  // UAC
  private readonly uac: OutgoingInviteOptions | undefined;
  private inviteReq: SipRequest | undefined;
  private inviteSeq = 0;
  private inviteExtra: Array<[string, string]> = [];
  private inviteTx: ClientTransaction | undefined;
  private provisionalSeen = false;
  private cancelState: 'none' | 'pending' | 'sent' = 'none';
  private cancelGuard: TimerHandle | undefined;
  private readonly prackRx = new ReliableProvisionalReceiver();
  private earlyPreview: SessionBody | undefined;
  private inviteAuth: AuthRetry | undefined;
  private retries422 = 0;

  // UAS
  private readonly serverTx: ServerTransaction | undefined;
  private readonly uasRequest: SipRequest | undefined;
  private prackTx: ReliableProvisionalSender | undefined;
  private finalSent = false;
  private accepting = false;
  private uasEarlyAnswer: SessionBody | undefined;
  private uasTimer: Extract<UasTimerDecision, { kind: 'active' }> | undefined;

  private constructor(host: SessionHost, init: Init) {
    this.host = host;
    this.role = init.role;
    this.events = new TypedEvents<InviteSessionEvents>(host.logger);
    this.oa = new OfferAnswer(host.logger);
    this.timer = new SessionTimer(host.clock, {
      onRefreshDue: () => this.onRefreshDue(),
      onExpired: () => this.onSessionExpired(),
    });
    this.localTag = generateTag();
    if (init.role === 'uac') {
      const o = init.options;
      this.uac = o;
      this.callId = o.callId ?? generateCallId();
      this.destination = o.destination;
      this.mediaHandler = o.mediaHandler;
      this.credentials = o.credentials;
      this.tlsServerName = o.tlsServerName;
      this.contactUser = o.contactUser ?? host.config.contactUser;
      this.st = { ...host.config.sessionTimer, ...o.sessionTimer };
      this.machine = new StateMachine<InviteSessionState>('invite-session', 'calling', TRANSITIONS, host.logger);
    } else {
      this.uac = undefined;
      this.serverTx = init.tx;
      this.uasRequest = init.request;
      this.callId = init.request.headers.get('Call-ID')?.trim() ?? '';
      this.destination = init.tx.inbound.source;
      this.mediaHandler = init.options.mediaHandler;
      this.credentials = init.options.credentials;
      this.tlsServerName = undefined;
      this.contactUser = init.options.contactUser ?? host.config.contactUser;
      this.st = { ...host.config.sessionTimer };
      this.machine = new StateMachine<InviteSessionState>('invite-session', 'incoming', TRANSITIONS, host.logger);
    }
    this.sessionInterval = this.st.interval;
    this.minSE = Math.max(90, this.st.minSE);
    this.log = host.logger.child({ component: 'invite-session', callId: this.callId, role: this.role });
  }

  /** Start an outgoing call: the INVITE is sent before this returns. */
  static outgoing(host: SessionHost, options: OutgoingInviteOptions): InviteSession {
    const s = new InviteSession(host, { role: 'uac', options });
    s.startUac();
    return s;
  }

  /**
   * Take an incoming INVITE. The session may already be terminated when this
   * returns (420 for an unsupported Require, 422 for a short Session-Expires).
   */
  static incoming(host: SessionHost, request: SipRequest, tx: ServerTransaction, options: IncomingSessionOptions = {}): InviteSession {
    const s = new InviteSession(host, { role: 'uas', request, tx, options });
    s.startUas();
    return s;
  }

  // ───────────────────────────── public view ─────────────────────────────

  get state(): InviteSessionState {
    return this.machine.state;
  }
  get dialog(): Dialog | undefined {
    return this.dialogValue;
  }
  /** Why and how it ended, once terminated. */
  get endInfo(): SessionEndInfo | undefined {
    return this.endInfoValue;
  }
  /** The initial INVITE: the one received (UAS) or the last one sent (UAC, after auth/422 retries). */
  get request(): SipRequest {
    return (this.uasRequest ?? this.inviteReq)!;
  }
  /** The last descriptions that took effect, and the offer/answer state. */
  get localBody(): SessionBody | undefined {
    return this.oa.local;
  }
  get remoteBody(): SessionBody | undefined {
    return this.oa.remote;
  }
  get offerAnswerState(): OfferAnswer['state'] {
    return this.oa.state;
  }
  /** The session timer, when one runs. */
  get sessionTimer(): { interval: number; localRefresher: boolean } | undefined {
    return this.timer.state;
  }

  on<K extends keyof InviteSessionEvents>(name: K, fn: (e: InviteSessionEvents[K]) => void): () => void {
    return this.events.on(name, fn);
  }
  once<K extends keyof InviteSessionEvents>(name: K, fn: (e: InviteSessionEvents[K]) => void): () => void {
    return this.events.once(name, fn);
  }

  // ───────────────────────────── UAS: answering ─────────────────────────────

  /**
   * Send a provisional response (default 180). With `reliable` (default: when
   * the INVITE asked for 100rel and we agreed) it is sent with RSeq and
   * retransmitted until PRACKed. A body in a reliable 1xx is our answer (or,
   * to an INVITE without offer, our offer); in an unreliable one it is early
   * media only and must be repeated in the 2xx.
   */
  progress(opts: { status?: number; reason?: string; body?: SessionBody; reliable?: boolean; headers?: Array<[string, string]> } = {}): void {
    this.assertUasUnanswered('progress');
    const status = opts.status ?? 180;
    if (status <= 100 || status >= 200) throw new PgwError('PGW_E_SIP_STATE', `not a provisional status: ${status}`);
    const reliable = (opts.reliable ?? this.prackTx !== undefined) && this.prackTx !== undefined;
    this.ensureUasDialog('early');
    const body = opts.body;
    if (body && reliable) {
      if (this.oa.state === 'remote-offer') this.oa.localAnswer(body);
      else if (this.oa.state === 'stable' && this.oa.completed === 0) this.oa.localOffer(body, 'reliable-1xx');
    } else if (body && this.oa.state === 'remote-offer') {
      // Early media in an unreliable 1xx: the 2xx must carry the same answer (RFC 6337 §3.1), so keep it.
      this.uasEarlyAnswer = body;
    }
    const response = createResponse(this.uasRequest!, status, opts.reason, {
      toTag: this.localTag,
      headers: [...this.uasDialogHeaders(), ...(opts.headers ?? [])],
      ...(body ? { body: body.body, contentType: body.contentType } : {}),
    });
    if (reliable) this.prackTx!.send(response);
    else this.serverTx!.respond(response);
    if (this.state === 'incoming') this.setState('early');
  }

  /**
   * Answer 200. The body is our answer to the INVITE's offer, or our offer
   * when the INVITE had none (the answer comes in the ACK); without one the
   * media handler is asked. The 2xx waits for outstanding reliable
   * provisionals to be PRACKed (RFC 3262 §3), then is retransmitted until
   * the ACK (§13.3.1.4).
   */
  async accept(opts: { body?: SessionBody; headers?: Array<[string, string]> } = {}): Promise<void> {
    this.assertUasUnanswered('accept');
    if (this.accepting) throw new PgwError('PGW_E_SIP_STATE', 'accept() already called');
    this.accepting = true;
    const prack = this.prackTx;
    if (prack && !prack.idle) await new Promise<void>((resolve) => prack.whenIdle(resolve));
    if (this.answeredOrOver()) return;

    let body = opts.body;
    try {
      if (this.oa.state === 'remote-offer') {
        const offer = this.oa.pendingOffer!.body;
        body ??= this.uasEarlyAnswer ?? (await this.produceAnswer(offer, { reason: 'initial', carrier: '2xx' }));
        if (this.answeredOrOver()) return;
        this.oa.localAnswer(body);
      } else if (this.oa.state === 'stable' && this.oa.completed === 0) {
        body ??= await this.produceOffer({ reason: 'initial', carrier: '2xx' });
        if (this.answeredOrOver()) return;
        if (!body) throw new PgwError('PGW_E_SDP_NEGOTIATION', 'the INVITE had no offer and there is none to send');
        this.oa.localOffer(body, '2xx');
      }
    } catch (err) {
      if (!this.answeredOrOver()) {
        this.oa.rollback();
        this.rejectInitial(rejectionStatus(err), undefined, [], 'rejected');
      }
      throw err;
    }

    this.ensureUasDialog('confirmed');
    const headers = [...this.uasDialogHeaders(), ...(this.uasTimer?.headers ?? []), ...(opts.headers ?? [])];
    const response = createResponse(this.uasRequest!, 200, undefined, {
      toTag: this.localTag,
      headers,
      ...(body ? { body: body.body, contentType: body.contentType } : {}),
    });
    this.finalSent = true;
    this.prackTx?.stop();
    this.serverTx!.respond(response);
    this.start2xxRetransmit(cseqOf(this.uasRequest!).seq, response, this.serverTx!.inbound);
    this.setState('connecting');
    if (this.uasTimer) this.startTimer(this.uasTimer.interval, this.uasTimer.refresher === 'uas');
  }

  /** Reject the INVITE with a final non-2xx response. */
  reject(opts: { status?: number; reason?: string; headers?: Array<[string, string]> } = {}): void {
    this.assertUasUnanswered('reject');
    const status = opts.status ?? 480;
    if (status < 300 || status > 699) throw new PgwError('PGW_E_SIP_STATE', `not a rejection status: ${status}`);
    this.rejectInitial(status, opts.reason, opts.headers ?? [], 'rejected');
  }

  // ───────────────────────────── both: in the dialog ─────────────────────────────

  /**
   * Send a re-INVITE (hold, resume, codec change). Without a body the media handler makes the offer;
   * `offer: false` sends none, so the offer comes in the 2xx and the answer goes in the ACK
   * (RFC 3261 §14.1; a B2BUA relaying an offerless re-INVITE). `retryGlare: false` resolves with a
   * 491 instead of retrying after the §14.1 wait: a B2BUA relaying someone else's offer hands the
   * 491 back to that offerer, whose retry it is.
   */
  async reinvite(opts: { body?: SessionBody; offer?: boolean; headers?: Array<[string, string]>; retryGlare?: boolean } = {}): Promise<SipResponse> {
    this.assertCanOffer('INVITE');
    const wantsOffer = opts.offer ?? true;
    const body = opts.body ?? (wantsOffer && this.mediaHandler ? await this.mediaHandler.createOffer({ reason: 'reinvite', carrier: 'reinvite' }) : undefined);
    this.assertCanOffer('INVITE');
    return this.runOffer('INVITE', body, opts.headers ?? [], opts.retryGlare ?? true);
  }

  /** Send an UPDATE (RFC 3311): with a body it is an offer, without one a session refresh. `retryGlare` as for reinvite(). */
  async update(opts: { body?: SessionBody; headers?: Array<[string, string]>; retryGlare?: boolean } = {}): Promise<SipResponse> {
    this.assertCanOffer('UPDATE');
    return this.runOffer('UPDATE', opts.body, opts.headers ?? [], opts.retryGlare ?? true);
  }

  /** Any other request inside the dialog (INFO, REFER, MESSAGE, NOTIFY, OPTIONS). */
  sendRequest(method: string, opts: { body?: SessionBody; headers?: Array<[string, string]> } = {}): Promise<SipResponse> {
    if (['INVITE', 'ACK', 'CANCEL', 'BYE', 'PRACK', 'UPDATE'].includes(method)) {
      throw new PgwError('PGW_E_SIP_STATE', `use the session's own method for ${method}`);
    }
    if (!this.dialogValue || this.state === 'terminated' || this.state === 'terminating') {
      throw new PgwError('PGW_E_SIP_STATE', `no dialog to send ${method} in`);
    }
    return new Promise((resolve) => {
      this.sendInDialog(method, { ...opts, onFinal: (r) => resolve(r) });
    });
  }

  /** Hang up: BYE when answered, CANCEL while ringing out (a UAS that has not answered uses reject()). */
  bye(): void {
    switch (this.state) {
      case 'calling':
      case 'early':
        if (this.role === 'uac') this.cancel();
        else throw new PgwError('PGW_E_SIP_STATE', 'the call is not answered: use reject()');
        return;
      case 'incoming':
        throw new PgwError('PGW_E_SIP_STATE', 'the call is not answered: use reject()');
      case 'connecting':
        // §15: the callee must not BYE before the ACK (or its timeout); the
        // caller must not BYE before it has ACKed.
        this.pendingBye = true;
        return;
      case 'confirmed':
        this.sendBye('bye-local');
        return;
      case 'terminating':
      case 'terminated':
        return;
      default: {
        const never: never = this.state;
        return never;
      }
    }
  }

  /** End the session whatever its state: CANCEL, reject (480 unless said) or BYE. */
  terminate(opts: { status?: number } = {}): void {
    if (this.role === 'uas' && (this.state === 'incoming' || this.state === 'early') && !this.finalSent) {
      this.reject({ status: opts.status ?? 480 });
      return;
    }
    this.bye();
  }

  // ───────────────────────────── UAC: calling ─────────────────────────────

  /**
   * CANCEL the INVITE (§9.1). Sent only once a provisional has arrived;
   * before that it waits for one. A 2xx that crosses the CANCEL is ACKed and
   * then ended with BYE.
   */
  cancel(): void {
    if (this.role !== 'uac') throw new PgwError('PGW_E_SIP_STATE', 'only the caller can CANCEL');
    if (this.state !== 'calling' && this.state !== 'early') return;
    this.cancelState = this.provisionalSeen ? 'sent' : 'pending';
    this.setState('terminating');
    if (this.cancelState === 'sent') this.sendCancel();
  }

  // ───────────────────────────── inbound, from the UA core ─────────────────────────────

  /** A request inside this session's dialog (ACK arrives with tx null). */
  receiveRequest(request: SipRequest, tx: ServerTransaction | null, _inbound: InboundMessage): void {
    if (request.method === 'ACK') {
      this.handleAck(request);
      return;
    }
    if (!tx) return;
    const dialog = this.dialogValue;
    if (!dialog || this.state === 'terminated') {
      tx.respond(createResponse(request, 481));
      return;
    }
    const check = dialog.receiveRequest(request);
    if (!check.ok) {
      tx.respond(createResponse(request, check.status, check.reason));
      return;
    }
    switch (request.method) {
      case 'BYE':
        this.handleBye(request, tx);
        return;
      case 'INVITE':
        void this.handleReinvite(request, tx);
        return;
      case 'UPDATE':
        void this.handleUpdate(request, tx);
        return;
      case 'PRACK':
        void this.handlePrack(request, tx);
        return;
      default:
        if (this.events.listenerCount('request') > 0) this.events.emit('request', { request, tx });
        else if (request.method === 'OPTIONS') tx.respond(createResponse(request, 200, undefined, { headers: this.capabilityHeaders() }));
        else tx.respond(createResponse(request, 501, undefined, { headers: [['Allow', this.host.config.allow.join(', ')]] }));
    }
  }

  /** A CANCEL matched one of our INVITE server transactions (the layer has answered it 200). */
  receiveCancel(tx: ServerTransaction): void {
    if (tx === this.serverTx) {
      if (this.finalSent) return;
      this.rejectInitial(487, undefined, [], 'cancelled');
      return;
    }
    if (this.incomingInvite?.tx === tx) {
      tx.respond(createResponse(tx.request, 487));
      if (this.oa.state === 'remote-offer' && this.oa.pendingOffer?.carrier === 'reinvite') this.oa.rollback();
      this.incomingInvite = undefined;
      this.host.untrackServerInvite(tx);
    }
  }

  /**
   * A response on one of our INVITE server transactions could not be sent
   * (§17.2.4: the transport failed). The initial INVITE: the call is lost.
   * A re-INVITE: its offer is void; the session stays.
   */
  receiveTransportError(tx: ServerTransaction, error: Error): void {
    this.log.warn({ err: String(error) }, 'response to INVITE could not be sent');
    if (tx === this.serverTx) {
      this.end({ cause: 'transport-error' });
      return;
    }
    if (this.incomingInvite?.tx === tx) {
      if (this.oa.state !== 'stable') this.oa.rollback();
      this.incomingInvite = undefined;
      this.host.untrackServerInvite(tx);
    }
  }

  /** A 2xx to one of our INVITEs that reached no client transaction: re-send its ACK. */
  receiveStray2xx(response: SipResponse): void {
    const seq = cseqOf(response).seq;
    if (this.acks.has(seq)) this.resendAck(seq);
  }

  // ───────────────────────────── internals: UAC ─────────────────────────────

  private startUac(): void {
    const o = this.uac!;
    this.inviteAuth = new AuthRetry(this.credentials);
    // §8.1.1.5: any start below 2^31; a small random one keeps logs readable.
    this.inviteSeq = 1 + Math.floor(this.host.random() * 10_000);
    this.inviteExtra = [...(o.headers ?? [])];
    if (o.body) this.oa.localOffer(o.body, 'invite');
    this.sendInitialInvite();
  }

  private buildInitialInvite(): SipRequest {
    const o = this.uac!;
    const cfg = this.host.config;
    const timer = this.st.enabled ? requestTimerHeaders(this.sessionInterval, this.minSE) : [];
    return buildInitialInvite({
      target: o.target,
      via: this.host.via(this.destination),
      from: withTag(o.from, this.localTag),
      to: o.to,
      callId: this.callId,
      cseq: this.inviteSeq,
      contact: this.host.contact(this.destination, this.contactUser),
      allow: cfg.allow,
      supported: [...(cfg.uacPrack !== 'off' ? ['100rel'] : []), ...(this.st.enabled ? ['timer'] : [])],
      require: cfg.uacPrack === 'required' ? ['100rel'] : [],
      headers: [...timer, ...this.inviteExtra],
      ...(cfg.userAgent ? { userAgent: cfg.userAgent } : {}),
      ...(o.body ? { body: o.body } : {}),
    });
  }

  private sendInitialInvite(): void {
    const req = this.buildInitialInvite();
    this.inviteReq = req;
    this.inviteTx = this.host.transactions.sendRequest(req, {
      destination: this.destination,
      ...this.tlsOption(),
      handlers: {
        onResponse: (r) => this.onInviteResponse(r, req),
        onTimeout: () => this.onInviteFailed(req, 'timeout', 408),
        onTransportError: (err) => {
          this.log.warn({ err: String(err) }, 'INVITE could not be sent');
          this.onInviteFailed(req, 'transport-error', 503);
        },
      },
    });
  }

  private onInviteResponse(r: SipResponse, req: SipRequest): void {
    if (req !== this.inviteReq || this.state === 'terminated') {
      if (is2xx(r)) this.handleLate2xx(r, req);
      return;
    }
    if (r.status < 200) this.onInviteProvisional(r, req);
    else if (r.status < 300) this.onInvite2xx(r, req);
    else this.onInviteRejected(r, req);
  }

  private onInviteProvisional(r: SipResponse, req: SipRequest): void {
    this.provisionalSeen = true;
    if (r.status === 100) {
      this.maybeSendPendingCancel();
      return;
    }
    const toTag = tagOf(r.headers.get('To'));
    if (toTag !== undefined && !this.dialogValue) {
      this.dialogValue = Dialog.fromUacResponse(req, r, { localContact: this.host.contact(this.destination, this.contactUser), logger: this.log });
      this.host.registerDialog(this.dialogValue, this);
    }
    // A second early dialog from a fork: we follow the first only.
    const ours = toTag !== undefined && this.dialogValue?.id.remoteTag === toTag;
    const rseq = parseRSeq(r.headers.get('RSeq'));
    let reliable = false;
    if (ours && rseq !== undefined && optionTags(r, 'Require').has('100rel')) {
      const kind = this.prackRx.classify(rseq);
      if (kind !== 'new') return; // RFC 3262 §4: retransmission or out of order: no PRACK, no event
      this.prackRx.accept(rseq);
      reliable = true;
    }
    if (this.state === 'calling') this.setState('early');
    const body = sessionBodyOf(r);
    if (body && ours) {
      if (reliable && this.oa.state === 'local-offer') {
        this.oa.remoteAnswer(body);
        this.events.emit('answer', { body, carrier: 'reliable-1xx' });
        this.applyAnswer(body, { reason: 'initial', carrier: 'reliable-1xx' });
      } else if (reliable && this.oa.state === 'stable' && this.oa.completed === 0) {
        this.oa.remoteOffer(body, 'reliable-1xx');
        this.events.emit('offer', { body, carrier: 'reliable-1xx' });
      } else if (!reliable) {
        this.earlyPreview = body;
      }
    }
    this.events.emit('progress', { response: r, ...(body ? { body } : {}), reliable });
    if (reliable) this.sendPrack(rseq!);
    this.maybeSendPendingCancel();
  }

  /** PRACK a reliable provisional; when it carried an offer, the PRACK carries our answer (RFC 3262 §5). */
  private sendPrack(rseq: number): void {
    const rack: Array<[string, string]> = [['RAck', `${rseq} ${this.inviteSeq} INVITE`]];
    const send = (body?: SessionBody): void => {
      if (!this.dialogValue || this.state === 'terminated') return;
      this.sendInDialog('PRACK', { headers: rack, ...(body ? { body } : {}), onFinal: () => undefined });
    };
    const pending = this.oa.pendingOffer;
    if (this.oa.state === 'remote-offer' && pending?.carrier === 'reliable-1xx') {
      this.produceAnswer(pending.body, { reason: 'prack', carrier: 'prack' }).then(
        (answer) => {
          if (this.oa.state === 'remote-offer') this.oa.localAnswer(answer);
          send(answer);
        },
        (err) => {
          this.log.warn({ err: String(err) }, 'no answer for the offer in a reliable provisional');
          this.oa.rollback();
          send();
          this.cancel();
        },
      );
      return;
    }
    send();
  }

  private onInvite2xx(r: SipResponse, req: SipRequest): void {
    const toTag = tagOf(r.headers.get('To'));
    const dialog = this.dialogValue;
    if (dialog && dialog.state === 'confirmed') {
      if (dialog.id.remoteTag === toTag) this.resendAck(cseqOf(req).seq);
      else this.ackAndByeStray(r, req); // a second fork answered too: §13.2.2.4
      return;
    }
    if (!dialog || dialog.id.remoteTag !== toTag) {
      if (dialog) this.host.unregisterDialog(dialog);
      this.dialogValue = Dialog.fromUacResponse(req, r, { localContact: this.host.contact(this.destination, this.contactUser), logger: this.log });
      this.host.registerDialog(this.dialogValue, this);
    } else {
      dialog.confirm(r);
    }
    this.cancelGuard?.cancel();
    this.capturePeerAllow(r);
    if (this.cancelState !== 'none') {
      // The CANCEL lost the race (§15, RFC 3261 §9.1 note): the callee answered, so ACK and hang up.
      this.sendAck(req);
      this.sendBye('cancelled');
      return;
    }
    this.events.emit('answered', { response: r });
    const timer = this.st.enabled ? uacTimerFromResponse(r) : undefined;
    const body = sessionBodyOf(r);
    if (this.oa.state === 'local-offer') {
      const answer = body ?? this.earlyPreview;
      if (!answer) {
        this.log.warn('2xx without an answer to our offer');
        this.oa.rollback();
        this.sendAck(req);
        this.confirmUac(timer);
        this.sendBye('failed');
        return;
      }
      this.oa.remoteAnswer(answer);
      this.events.emit('answer', { body: answer, carrier: '2xx' });
      this.sendAck(req);
      this.confirmUac(timer);
      this.applyAnswer(answer, { reason: 'initial', carrier: '2xx' });
    } else if (this.oa.state === 'stable' && this.oa.completed === 0) {
      if (!body) {
        this.sendAck(req);
        this.confirmUac(timer);
        this.log.warn('2xx to an INVITE without offer carried no offer');
        this.sendBye('failed');
        return;
      }
      // Late offer: the answer goes in the ACK (RFC 3261 §13.2.2.4, RFC 3264 §4).
      this.oa.remoteOffer(body, '2xx');
      this.events.emit('offer', { body, carrier: '2xx' });
      this.setState('connecting');
      this.produceAnswer(body, { reason: 'late', carrier: '2xx' }).then(
        (answer) => {
          if (this.state === 'terminated') return;
          this.oa.localAnswer(answer);
          this.sendAck(req, answer);
          this.confirmUac(timer);
        },
        (err) => {
          this.log.warn({ err: String(err) }, 'no answer for the offer in the 2xx');
          this.oa.rollback();
          if (this.state === 'terminated') return;
          this.sendAck(req);
          this.confirmUac(timer);
          this.sendBye('failed');
        },
      );
    } else {
      this.sendAck(req);
      this.confirmUac(timer);
    }
  }

  private confirmUac(timer: { interval: number; refresher: 'uac' | 'uas' } | undefined): void {
    if (this.state === 'terminated' || this.state === 'terminating') return;
    this.setState('confirmed');
    this.events.emit('confirmed', {});
    if (timer) this.startTimer(timer.interval, timer.refresher === 'uac');
    if (this.pendingBye) {
      this.pendingBye = false;
      this.sendBye('bye-local');
    }
  }

  private onInviteRejected(r: SipResponse, req: SipRequest): void {
    if ((r.status === 401 || r.status === 407) && this.cancelState === 'none') {
      const auth = this.inviteAuth?.answer(r, req);
      if (auth) {
        this.inviteExtra = replaceHeader(this.inviteExtra, auth[0], auth[1]);
        this.retryInvite();
        return;
      }
    }
    if (r.status === 422 && this.st.enabled && this.cancelState === 'none' && this.retries422 < 2) {
      const m = minSEOf(r);
      if (m !== undefined && m > this.minSE) {
        // RFC 4028 §7.1: retry with the peer's Min-SE as both values.
        this.retries422++;
        this.minSE = m;
        this.sessionInterval = Math.max(this.sessionInterval, m);
        this.retryInvite();
        return;
      }
    }
    this.end(this.cancelState !== 'none' ? { cause: 'cancelled', status: r.status, response: r } : { cause: 'rejected', status: r.status, reason: r.reason, response: r });
  }

  /** Same Call-ID and tags, next CSeq, fresh branch (§22.2, RFC 4028 §7.1). */
  private retryInvite(): void {
    if (this.dialogValue) {
      this.host.unregisterDialog(this.dialogValue);
      this.dialogValue = undefined;
    }
    this.inviteSeq++;
    this.sendInitialInvite();
  }

  private onInviteFailed(req: SipRequest, cause: 'timeout' | 'transport-error', status: number): void {
    if (req !== this.inviteReq || this.state === 'terminated') return;
    this.end({ cause: this.cancelState !== 'none' ? 'cancelled' : cause, status });
  }

  private maybeSendPendingCancel(): void {
    if (this.cancelState !== 'pending') return;
    this.cancelState = 'sent';
    this.sendCancel();
  }

  /** §9.1: CANCEL only once a provisional came, to where the INVITE went (its transport may have changed, §18.1.1). */
  private sendCancel(): void {
    const cancel = buildCancel(this.inviteTx?.request ?? this.inviteReq!, this.host.config.userAgent);
    this.host.transactions.sendRequest(cancel, {
      destination: this.inviteTx?.destination ?? this.destination,
      ...this.tlsOption(),
      handlers: { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined },
    });
    // §9.1: if no final response to the INVITE comes within 64*T1 of the CANCEL, give up on it.
    this.cancelGuard = this.host.clock.setTimer(64 * this.host.config.t1, () => {
      if (this.state !== 'terminated' && !this.byeSent) this.end({ cause: 'cancelled' });
    });
  }

  /** ACK a 2xx with the INVITE's CSeq and credentials (§13.2.2.4, §22.1); cache it for retransmitted 2xx. */
  private sendAck(invite: SipRequest, body?: SessionBody): void {
    const seq = cseqOf(invite).seq;
    const auth: Array<[string, string]> = [];
    for (const name of ['Authorization', 'Proxy-Authorization']) for (const v of invite.headers.getAll(name)) auth.push([name, v]);
    const ack = this.dialogValue!.createRequest('ACK', {
      cseq: seq,
      via: this.host.via(this.destination),
      headers: auth,
      ...(body ? { body: body.body, contentType: body.contentType } : {}),
    });
    this.acks.set(seq, ack);
    this.transmitAck(ack);
  }

  private resendAck(seq: number): void {
    const ack = this.acks.get(seq);
    if (ack) this.transmitAck(ack);
  }

  private transmitAck(ack: SipRequest): void {
    this.host.transactions.sendStateless(ack, this.destination, this.tlsOption()).catch((err: unknown) => {
      this.log.warn({ err: String(err) }, 'ACK could not be sent');
    });
  }

  /** A 2xx for a dialog we do not keep (fork, or after we gave up): ACK it and BYE it (§13.2.2.4). */
  private handleLate2xx(r: SipResponse, req: SipRequest): void {
    const seq = cseqOf(req).seq;
    if (this.dialogValue && this.dialogValue.id.remoteTag === tagOf(r.headers.get('To')) && this.acks.has(seq)) {
      this.resendAck(seq);
      return;
    }
    this.ackAndByeStray(r, req);
  }

  private ackAndByeStray(r: SipResponse, req: SipRequest): void {
    let d: Dialog;
    try {
      d = Dialog.fromUacResponse(req, r, { localContact: this.host.contact(this.destination, this.contactUser) });
    } catch {
      return;
    }
    const ack = d.createRequest('ACK', { cseq: cseqOf(req).seq, via: this.host.via(this.destination) });
    this.transmitAck(ack);
    const bye = d.createRequest('BYE', { via: this.host.via(this.destination) });
    this.host.transactions.sendRequest(bye, {
      destination: this.destination,
      ...this.tlsOption(),
      handlers: { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined },
    });
  }

  // ───────────────────────────── internals: UAS ─────────────────────────────

  private startUas(): void {
    const req = this.uasRequest!;
    this.host.trackServerInvite(this.serverTx!, this);
    this.capturePeerAllow(req);
    const ours = supportedOptionTags(this.host.config);
    const unsupported = [...optionTags(req, 'Require')].filter((t) => !ours.includes(t));
    if (unsupported.length > 0) {
      // RFC 3261 §8.2.2.3
      this.rejectInitial(420, 'Bad Extension', [['Unsupported', unsupported.join(', ')]], 'rejected');
      return;
    }
    const decision = uasTimerDecision(req, this.st);
    if (decision.kind === 'too-small') {
      // RFC 4028 §8.1
      this.rejectInitial(422, 'Session Interval Too Small', [['Min-SE', String(decision.minSE)]], 'rejected');
      return;
    }
    if (decision.kind === 'active') this.uasTimer = decision;
    const requires100rel = optionTags(req, 'Require').has('100rel');
    const supports100rel = optionTags(req, 'Supported').has('100rel');
    const policy = this.host.config.uasPrack;
    if (policy !== 'off' && (requires100rel || (policy === 'supported' && supports100rel))) {
      this.prackTx = new ReliableProvisionalSender({
        clock: this.host.clock,
        t1: this.host.config.t1,
        inviteCSeq: cseqOf(req).seq,
        random: () => this.host.random(),
        send: (r) => this.serverTx!.respond(r),
        // RFC 3262 §3: no PRACK within 64*T1: reject the INVITE with a 5xx.
        onTimeout: () => {
          if (!this.finalSent) this.rejectInitial(504, 'No PRACK', [], 'timeout');
        },
      });
    }
    const body = sessionBodyOf(req);
    if (body) this.oa.remoteOffer(body, 'invite');
  }

  private tlsOption(): { tlsServerName?: string } {
    return this.tlsServerName ? { tlsServerName: this.tlsServerName } : {};
  }

  /** The INVITE got its final response or the session is over (re-read after every await). */
  private answeredOrOver(): boolean {
    return this.finalSent || this.machine.state === 'terminated';
  }

  private assertUasUnanswered(what: string): void {
    if (this.role !== 'uas') throw new PgwError('PGW_E_SIP_STATE', `${what}: only for incoming calls`);
    if (this.finalSent || (this.state !== 'incoming' && this.state !== 'early')) {
      throw new PgwError('PGW_E_SIP_STATE', `${what}: the INVITE is already answered (${this.state})`);
    }
  }

  /** Contact, Record-Route (§12.1.1), Allow and Supported for responses that make a dialog. */
  private uasDialogHeaders(): Array<[string, string]> {
    const req = this.uasRequest!;
    const out: Array<[string, string]> = [];
    for (const rr of req.headers.getAll('Record-Route')) out.push(['Record-Route', rr]);
    out.push(['Contact', this.host.contact(this.destination, this.contactUser)]);
    out.push(...this.capabilityHeaders());
    if (this.host.config.userAgent) out.push(['Server', this.host.config.userAgent]);
    return out;
  }

  private capabilityHeaders(): Array<[string, string]> {
    const out: Array<[string, string]> = [['Allow', this.host.config.allow.join(', ')]];
    const sup = supportedOptionTags(this.host.config);
    if (sup.length > 0) out.push(['Supported', sup.join(', ')]);
    return out;
  }

  private ensureUasDialog(state: 'early' | 'confirmed'): void {
    if (!this.dialogValue) {
      this.dialogValue = Dialog.fromUasRequest(this.uasRequest!, {
        localTag: this.localTag,
        localContact: this.host.contact(this.destination, this.contactUser),
        state,
        logger: this.log,
      });
      this.host.registerDialog(this.dialogValue, this);
    } else if (state === 'confirmed') {
      this.dialogValue.confirm();
    }
  }

  private rejectInitial(status: number, reason: string | undefined, headers: Array<[string, string]>, cause: SessionEndCause): void {
    const req = this.uasRequest!;
    this.prackTx?.stop();
    this.finalSent = true;
    const response = createResponse(req, status, reason, {
      toTag: this.localTag,
      headers: [...headers, ...(this.host.config.userAgent ? ([['Server', this.host.config.userAgent]] as Array<[string, string]>) : [])],
    });
    this.serverTx!.respond(response);
    this.end({ cause, status, reason: response.reason });
  }

  private start2xxRetransmit(seq: number, response: SipResponse, inbound: InboundMessage): void {
    this.pending2xx.get(seq)?.stop();
    const rt = new Retransmitter({
      clock: this.host.clock,
      t1: this.host.config.t1,
      cap: this.host.config.t2,
      giveUpAfter: 64 * this.host.config.t1,
      send: () => {
        this.host.transactions.sendResponseStateless(response, inbound).catch((err: unknown) => {
          this.log.warn({ err: String(err) }, '2xx retransmission failed');
        });
      },
      onGiveUp: () => {
        // §13.3.1.4: no ACK within 64*T1: the dialog is confirmed, but the session ends with BYE.
        this.pending2xx.delete(seq);
        this.log.warn({ cseq: seq }, 'no ACK for our 2xx');
        if (this.oa.state === 'local-offer' && this.oa.pendingOffer?.carrier === '2xx') this.oa.rollback();
        this.sendBye('timeout');
      },
    });
    this.pending2xx.set(seq, rt);
    rt.start();
  }

  private handleAck(ack: SipRequest): void {
    const seq = cseqOf(ack).seq;
    const rt = this.pending2xx.get(seq);
    if (!rt) return; // a retransmitted ACK, or one for a 2xx we never sent
    rt.stop();
    this.pending2xx.delete(seq);
    const body = sessionBodyOf(ack);
    // Before this ACK the dialog was confirmed: it acknowledges a re-INVITE, not the call's INVITE.
    const reinvite = this.state !== 'connecting';
    const ctx: OfferContext = { reason: reinvite ? 'reinvite' : 'initial', carrier: '2xx' };
    let failed = false;
    if (this.oa.state === 'local-offer' && this.oa.pendingOffer?.carrier === '2xx') {
      if (body) {
        this.oa.remoteAnswer(body);
        this.events.emit('answer', { body, carrier: '2xx' });
        this.applyAnswer(body, ctx);
      } else {
        // RFC 3261 §13.2.2.4 / RFC 6337 §3.1: the answer was due in the ACK. A call being set up
        // has no session without it; a running one keeps the session it had.
        this.oa.rollback();
        if (reinvite) this.mediaHandler?.answerMissing?.(ctx);
        else failed = true;
      }
    }
    if (this.state === 'connecting') {
      this.setState('confirmed');
      this.events.emit('confirmed', {});
    }
    if (failed) this.sendBye('failed');
    else if (this.pendingBye) {
      this.pendingBye = false;
      this.sendBye('bye-local');
    }
  }

  private handlePrack(req: SipRequest, tx: ServerTransaction): void {
    const rack = parseRAck(req.headers.get('RAck'));
    const acked = rack && this.prackTx ? this.prackTx.prack(rack) : undefined;
    if (!acked) {
      tx.respond(createResponse(req, 481)); // RFC 3262 §3
      return;
    }
    const body = sessionBodyOf(req);
    if (body && this.oa.state === 'local-offer' && this.oa.pendingOffer?.carrier === 'reliable-1xx') {
      this.oa.remoteAnswer(body);
      this.events.emit('answer', { body, carrier: 'prack' });
      this.applyAnswer(body, { reason: 'prack', carrier: 'prack' });
    } else if (body && this.oa.state === 'stable') {
      // An offer in the PRACK: answer in its 200 (RFC 3262 §5).
      this.oa.remoteOffer(body, 'prack');
      this.events.emit('offer', { body, carrier: 'prack' });
      this.produceAnswer(body, { reason: 'prack', carrier: 'prack' }).then(
        (answer) => {
          this.oa.localAnswer(answer);
          tx.respond(createResponse(req, 200, undefined, { body: answer.body, contentType: answer.contentType }));
        },
        (err) => {
          this.oa.rollback();
          tx.respond(createResponse(req, rejectionStatus(err)));
        },
      );
      return;
    }
    tx.respond(createResponse(req, 200));
  }

  // ───────────────────────────── internals: both roles ─────────────────────────────

  private handleBye(req: SipRequest, tx: ServerTransaction): void {
    tx.respond(createResponse(req, 200));
    if (this.role === 'uas' && !this.finalSent) {
      // §15.1.2: BYE on an early dialog: the INVITE gets 487.
      this.prackTx?.stop();
      this.finalSent = true;
      this.serverTx!.respond(createResponse(this.uasRequest!, 487, undefined, { toTag: this.localTag }));
    }
    if (this.incomingInvite) {
      this.incomingInvite.tx.respond(createResponse(this.incomingInvite.tx.request, 487));
      this.incomingInvite = undefined;
    }
    this.end({ cause: this.byeSent ? this.byeCause : 'bye-remote' });
  }

  private byeCause: SessionEndCause = 'bye-local';

  private async handleReinvite(req: SipRequest, tx: ServerTransaction): Promise<void> {
    const respond = (status: number, headers: Array<[string, string]> = []): void => tx.respond(createResponse(req, status, undefined, { headers }));
    const retryAfter = (): Array<[string, string]> => [['Retry-After', String(overlapRetryAfterSeconds(() => this.host.random()))]];
    if (this.state !== 'confirmed') {
      // Not before the initial exchange is complete (§14.1: re-INVITE only on a confirmed dialog).
      respond(this.state === 'connecting' ? 500 : 491, this.state === 'connecting' ? retryAfter() : []);
      return;
    }
    // RFC 3261 §14.2: a second INVITE before we answered the first: 500 + Retry-After.
    if (this.incomingInvite || this.oa.state === 'remote-offer') return respond(500, retryAfter());
    // ... and our own INVITE (or any offer of ours) in progress: 491 (glare).
    if (this.outgoingInvite || this.oa.state === 'local-offer') return respond(491);
    const decision = uasTimerDecision(req, this.st);
    if (decision.kind === 'too-small') return respond(422, [['Min-SE', String(decision.minSE)]]);

    const seq = cseqOf(req).seq;
    this.incomingInvite = { tx, cseq: seq };
    this.host.trackServerInvite(tx, this);
    this.targetRefresh(req);
    const offer = sessionBodyOf(req);
    let body: SessionBody | undefined;
    try {
      if (offer) {
        this.oa.remoteOffer(offer, 'reinvite');
        this.events.emit('offer', { body: offer, carrier: 'reinvite' });
        body = await this.produceAnswer(offer, { reason: 'reinvite', carrier: 'reinvite' });
        if (this.incomingInvite?.tx !== tx) return; // cancelled or ended meanwhile
        this.oa.localAnswer(body);
      } else {
        // No offer: ours goes in the 2xx, the answer in the ACK.
        body = await this.produceOffer({ reason: 'reinvite', carrier: '2xx' });
        if (this.incomingInvite?.tx !== tx) return;
        if (body) this.oa.localOffer(body, '2xx');
      }
    } catch (err) {
      if (this.incomingInvite?.tx !== tx) return;
      this.oa.rollback();
      this.incomingInvite = undefined;
      this.host.untrackServerInvite(tx);
      respond(rejectionStatus(err));
      return;
    }
    const headers: Array<[string, string]> = [['Contact', this.host.contact(this.destination, this.contactUser)], ...this.capabilityHeaders()];
    if (decision.kind === 'active') headers.push(...decision.headers);
    const response = createResponse(req, 200, undefined, { headers, ...(body ? { body: body.body, contentType: body.contentType } : {}) });
    this.incomingInvite = undefined;
    this.host.untrackServerInvite(tx);
    tx.respond(response);
    this.start2xxRetransmit(seq, response, tx.inbound);
    this.afterRefresh(decision.kind === 'active' ? { interval: decision.interval, local: decision.refresher === 'uas' } : undefined);
  }

  private async handleUpdate(req: SipRequest, tx: ServerTransaction): Promise<void> {
    const respond = (status: number, headers: Array<[string, string]> = []): void => tx.respond(createResponse(req, status, undefined, { headers }));
    const offer = sessionBodyOf(req);
    if (offer) {
      // RFC 3311 §5.2
      if (this.oa.state === 'local-offer') return respond(491);
      if (this.oa.state === 'remote-offer') return respond(500, [['Retry-After', String(overlapRetryAfterSeconds(() => this.host.random()))]]);
    }
    const decision = uasTimerDecision(req, this.st);
    if (decision.kind === 'too-small') return respond(422, [['Min-SE', String(decision.minSE)]]);
    this.targetRefresh(req);
    let answer: SessionBody | undefined;
    if (offer) {
      this.oa.remoteOffer(offer, 'update');
      this.events.emit('offer', { body: offer, carrier: 'update' });
      try {
        answer = await this.produceAnswer(offer, { reason: 'update', carrier: 'update' });
      } catch (err) {
        this.oa.rollback();
        if (this.state !== 'terminated') respond(rejectionStatus(err));
        return;
      }
      if (this.state === 'terminated') return;
      this.oa.localAnswer(answer);
    }
    const headers: Array<[string, string]> = [['Contact', this.host.contact(this.destination, this.contactUser)], ...this.capabilityHeaders()];
    if (decision.kind === 'active') headers.push(...decision.headers);
    tx.respond(createResponse(req, 200, undefined, { headers, ...(answer ? { body: answer.body, contentType: answer.contentType } : {}) }));
    if (this.state === 'confirmed') {
      this.afterRefresh(decision.kind === 'active' ? { interval: decision.interval, local: decision.refresher === 'uas' } : undefined);
    }
  }

  private targetRefresh(message: SipRequest | SipResponse): void {
    const d = this.dialogValue;
    if (!d) return;
    const before = d.remoteTarget;
    d.refreshTarget(message);
    if (d.remoteTarget !== before) this.events.emit('target-refresh', { remoteTarget: d.remoteTarget });
  }

  private assertCanOffer(method: 'INVITE' | 'UPDATE'): void {
    const okState = method === 'INVITE' ? this.state === 'confirmed' : this.state === 'confirmed' || this.state === 'early' || this.state === 'connecting';
    if (!okState || !this.dialogValue) throw new PgwError('PGW_E_SIP_STATE', `cannot send ${method} in state ${this.state}`);
    if (this.outgoingInvite || this.incomingInvite || this.oa.state !== 'stable') {
      throw new PgwError('PGW_E_SIP_STATE', `cannot send ${method}: an offer or INVITE is in progress`);
    }
  }

  /**
   * Send a re-INVITE or UPDATE, handling 491 glare (retry after the §14.1
   * random wait), 422 (retry with the larger Min-SE), and 408/481 (the dialog
   * is gone, §12.2.1.2). Resolves with the final response (a 408/503 stand-in
   * on timeout or transport error).
   */
  private runOffer(method: 'INVITE' | 'UPDATE', body: SessionBody | undefined, headers: Array<[string, string]>, retryGlare = true): Promise<SipResponse> {
    const carrier: OfferCarrier = method === 'INVITE' ? 'reinvite' : 'update';
    let glareTries = 0;
    let tries422 = 0;
    return new Promise((resolve) => {
      const attempt = (): void => {
        this.glareTimer = undefined;
        if (this.state === 'terminated' || this.state === 'terminating' || !this.dialogValue) {
          resolve(synthetic(this.request, 481));
          return;
        }
        if (this.oa.state !== 'stable' || this.outgoingInvite || this.incomingInvite) {
          // The peer started an exchange while we waited: wait our turn again.
          if (glareTries++ >= this.host.config.maxGlareRetries) {
            resolve(synthetic(this.request, 481));
            return;
          }
          this.glareTimer = this.host.clock.setTimer(glareRetryDelayMs(this.role === 'uac', () => this.host.random()), attempt);
          return;
        }
        if (body) this.oa.localOffer(body, carrier);
        if (method === 'INVITE') this.outgoingInvite = true;
        this.sendInDialog(method, {
          headers: [...headers, ...this.refreshRequestHeaders()],
          ...(body ? { body } : {}),
          onFinal: (r, req) => {
            if (method === 'INVITE') this.outgoingInvite = false;
            if (is2xx(r)) {
              this.onOffer2xx(method, r, req, body);
              resolve(r);
              return;
            }
            if (body && this.oa.state === 'local-offer') this.oa.rollback();
            if (this.state === 'terminated') {
              resolve(r);
              return;
            }
            if (r.status === 491 && retryGlare && glareTries < this.host.config.maxGlareRetries) {
              glareTries++;
              // RFC 3261 §14.1: the owner of the Call-ID (the original caller) waits longer.
              const delay = glareRetryDelayMs(this.role === 'uac', () => this.host.random());
              this.log.debug({ delay, method }, '491: retrying later');
              this.glareTimer = this.host.clock.setTimer(delay, attempt);
              return;
            }
            if (r.status === 422 && tries422 < 2) {
              const m = minSEOf(r);
              if (m !== undefined && m > this.minSE) {
                tries422++;
                this.minSE = m;
                this.sessionInterval = Math.max(this.sessionInterval, m);
                attempt();
                return;
              }
            }
            if (r.status === 481) this.end({ cause: 'failed', status: 481, response: r });
            else if (r.status === 408) this.sendBye('timeout');
            resolve(r);
          },
        });
      };
      attempt();
    });
  }

  private onOffer2xx(method: 'INVITE' | 'UPDATE', r: SipResponse, req: SipRequest, offer: SessionBody | undefined): void {
    this.targetRefresh(r);
    const remote = sessionBodyOf(r);
    if (offer) {
      if (method === 'INVITE') this.sendAck(req);
      if (!remote) {
        this.oa.rollback();
        this.sendBye('failed');
        return;
      }
      this.oa.remoteAnswer(remote);
      this.events.emit('answer', { body: remote, carrier: method === 'INVITE' ? 'reinvite' : 'update' });
      this.applyAnswer(remote, { reason: method === 'INVITE' ? 'reinvite' : 'update', carrier: method === 'INVITE' ? 'reinvite' : 'update' });
    } else if (method === 'INVITE') {
      if (!remote) {
        this.sendAck(req);
      } else {
        // Offer in the 2xx to our offerless re-INVITE: answer in the ACK.
        this.oa.remoteOffer(remote, '2xx');
        this.events.emit('offer', { body: remote, carrier: '2xx' });
        this.produceAnswer(remote, { reason: 'reinvite', carrier: '2xx' }).then(
          (answer) => {
            this.oa.localAnswer(answer);
            this.sendAck(req, answer);
          },
          () => {
            this.oa.rollback();
            this.sendAck(req);
            this.sendBye('failed');
          },
        );
      }
    }
    if (this.state === 'terminated' || this.state === 'terminating') return;
    const t = this.st.enabled ? uacTimerFromResponse(r) : undefined;
    this.afterRefresh(t ? { interval: t.interval, local: t.refresher === 'uac' } : undefined);
  }

  /** Session-Expires/Min-SE/Supported for a re-INVITE or UPDATE we send (RFC 4028 §7.4). */
  private refreshRequestHeaders(): Array<[string, string]> {
    if (!this.st.enabled) return [];
    const refresher = this.timerLocalRefresher === undefined ? undefined : this.timerLocalRefresher ? 'uac' : 'uas';
    return [['Supported', supportedOptionTags(this.host.config, 'uac').join(', ')], ...requestTimerHeaders(this.sessionInterval, this.minSE, refresher)];
  }

  /** A refresh (either direction) succeeded: restart the session timer with what it negotiated, or stop it. */
  private afterRefresh(t: { interval: number; local: boolean } | undefined): void {
    if (!this.st.enabled) return;
    if (t) this.startTimer(t.interval, t.local);
    else {
      this.timer.stop();
      this.timerLocalRefresher = undefined;
    }
  }

  private startTimer(interval: number, localRefresher: boolean): void {
    this.sessionInterval = interval;
    this.timerLocalRefresher = localRefresher;
    this.timer.start(interval, localRefresher);
    this.events.emit('refreshed', { interval, localRefresher });
  }

  private onRefreshDue(): void {
    if (this.state !== 'confirmed') return;
    // Another exchange is in flight; if it succeeds it refreshes the session, else expiry still guards.
    if (this.outgoingInvite || this.incomingInvite || this.oa.state !== 'stable') return;
    const useUpdate = this.host.config.preferUpdateForRefresh && this.peerAllow.has('UPDATE');
    if (useUpdate) {
      void this.runOffer('UPDATE', undefined, []);
      return;
    }
    // A re-INVITE refresh repeats our current description (RFC 4028 §7.4, RFC 3264 §8: same version, no change).
    const offer = this.mediaHandler
      ? this.mediaHandler.createOffer({ reason: 'refresh', carrier: 'reinvite' })
      : Promise.resolve(this.oa.local);
    offer.then(
      (body) => {
        if (this.state === 'confirmed' && !this.outgoingInvite && !this.incomingInvite && this.oa.state === 'stable') {
          void this.runOffer('INVITE', body, []);
        }
      },
      (err: unknown) => this.log.warn({ err: String(err) }, 'no offer for the session refresh'),
    );
  }

  private onSessionExpired(): void {
    if (this.state !== 'confirmed' && this.state !== 'connecting') return;
    this.log.info({ interval: this.sessionInterval }, 'session expired without refresh');
    this.sendBye('session-expired');
  }

  private capturePeerAllow(message: SipRequest | SipResponse): void {
    const allow = headerValues(message, 'Allow').map((m) => m.toUpperCase());
    if (allow.length > 0) this.peerAllow = new Set(allow);
  }

  private produceAnswer(offer: SessionBody, ctx: OfferContext): Promise<SessionBody> {
    return produceAnswer(this.mediaHandler, offer, ctx, { local: this.oa.local, remote: this.oa.remote });
  }

  private produceOffer(ctx: OfferContext): Promise<SessionBody | undefined> {
    return produceOffer(this.mediaHandler, ctx, this.oa.local);
  }

  private applyAnswer(answer: SessionBody, ctx: OfferContext): void {
    const h = this.mediaHandler?.applyAnswer;
    if (!h) return;
    Promise.resolve()
      .then(() => h.call(this.mediaHandler, answer, ctx))
      .catch((err: unknown) => {
        this.log.warn({ err: String(err) }, 'the answer could not be used');
        if (this.state === 'confirmed') this.sendBye('failed');
        else if (this.role === 'uac' && (this.state === 'early' || this.state === 'calling')) this.cancel();
      });
  }

  private sendInDialog(method: string, o: InDialogSendOptions): void {
    sendInDialog(
      {
        dialog: this.dialogValue!,
        host: this.host,
        destination: this.destination,
        credentials: this.credentials,
        ...this.tlsOption(),
        onInvite2xxRetransmission: (seq) => this.resendAck(seq),
      },
      method,
      o,
    );
  }

  /** Send BYE once; the session ends when it gets a final response (or times out). */
  private sendBye(cause: SessionEndCause): void {
    if (this.state === 'terminated' || this.byeSent) return;
    if (!this.dialogValue) {
      this.end({ cause });
      return;
    }
    this.byeSent = true;
    this.byeCause = cause;
    this.stopTimers();
    if (this.state !== 'terminating') this.setState('terminating');
    this.sendInDialog('BYE', { onFinal: (r) => this.end({ cause, ...(cause === 'bye-local' ? {} : { status: r.status }) }) });
  }

  private stopTimers(): void {
    this.timer.stop();
    this.glareTimer?.cancel();
    this.glareTimer = undefined;
    this.cancelGuard?.cancel();
    for (const rt of this.pending2xx.values()) rt.stop();
    this.pending2xx.clear();
    this.prackTx?.stop();
  }

  private end(info: SessionEndInfo): void {
    if (this.endInfoValue) return;
    this.endInfoValue = info;
    this.stopTimers();
    if (this.dialogValue) {
      this.dialogValue.terminate();
      this.host.unregisterDialog(this.dialogValue);
    }
    if (this.serverTx) this.host.untrackServerInvite(this.serverTx);
    if (this.incomingInvite) this.host.untrackServerInvite(this.incomingInvite.tx);
    if (this.state !== 'terminated') this.setState('terminated');
    this.log.debug({ ...info, response: undefined }, 'session ended');
    this.host.sessionEnded(this);
    this.events.emit('ended', info);
  }

  private setState(to: InviteSessionState): void {
    const from = this.machine.state;
    if (from === to) return;
    this.machine.transition(to);
    this.events.emit('state', { from, to });
  }
}
