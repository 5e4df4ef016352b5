/**
 * The types around an InviteSession: its states, events, options, the media
 * handler delegate and the host (the UA core) it runs in.
 */
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { Dialog } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { ServerTransaction, TransactionLayer } from '../transaction/api.js';
import type { Endpoint } from '../transport/api.js';
import type { CredentialProvider } from './credentials.js';
import type { InviteSession } from './invite-session.js';
import type { OfferCarrier } from './offer-answer.js';
import type { SessionBody } from './session-body.js';
import type { SessionTimerConfig } from './session-timer.js';
import type { UaConfig } from './ua-config.js';

export type InviteSessionState =
  | 'calling'
  | 'incoming'
  | 'early'
  | 'connecting'
  | 'confirmed'
  | 'terminating'
  | 'terminated';

export type SessionEndCause =
  | 'bye-local'
  | 'bye-remote'
  | 'cancelled'
  | 'rejected'
  | 'timeout'
  | 'transport-error'
  | 'session-expired'
  /** Offer/answer broke (no answer where one was due, an answer we could not use). */
  | 'failed';

export interface SessionEndInfo {
  cause: SessionEndCause;
  /** The final status that ended it (rejections, 408/481 to in-dialog requests). */
  status?: number;
  reason?: string;
  response?: SipResponse;
}

export interface InviteSessionEvents {
  state: { from: InviteSessionState; to: InviteSessionState };
  /** UAC: a provisional response (not 100); body is early media SDP when present. */
  progress: { response: SipResponse; body?: SessionBody; reliable: boolean };
  /** UAC: the 2xx to the initial INVITE. */
  answered: { response: SipResponse };
  /** The initial INVITE's 2xx was ACKed (UAS: ACK received; UAC: ACK sent). */
  confirmed: Record<string, never>;
  /** A remote offer arrived (the media handler is asked for the answer). */
  offer: { body: SessionBody; carrier: OfferCarrier };
  /** The remote answer to our offer arrived. */
  answer: { body: SessionBody; carrier: OfferCarrier };
  /** A target refresh changed where in-dialog requests go. */
  'target-refresh': { remoteTarget: string };
  /** The session timer was (re)started by a successful refresh. */
  refreshed: { interval: number; localRefresher: boolean };
  /** An in-dialog request this layer does not handle (INFO, REFER, NOTIFY, MESSAGE, OPTIONS): answer it on tx. */
  request: { request: SipRequest; tx: ServerTransaction };
  ended: SessionEndInfo;
}

export interface OfferContext {
  /** What the description is for. */
  reason: 'initial' | 'reinvite' | 'update' | 'prack' | 'refresh' | 'late';
  carrier: OfferCarrier;
}

/**
 * The media layer's side of offer/answer (the SIP layer never reads SDP).
 * answerOffer may reject by throwing; a PgwError with `context.status` picks
 * the status (default 488 Not Acceptable Here).
 */
export interface SessionMediaHandler {
  /** Make an offer (re-INVITE/UPDATE we start, offer in our 2xx, a refresh: return the current description unchanged). */
  createOffer(ctx: OfferContext): Promise<SessionBody>;
  answerOffer(offer: SessionBody, ctx: OfferContext): Promise<SessionBody>;
  /** The peer answered our offer. Throwing ends the session (BYE). */
  applyAnswer?(answer: SessionBody, ctx: OfferContext): Promise<void> | void;
  /**
   * The ACK to a re-INVITE's 2xx came without the answer to the offer in
   * that 2xx: the offer is withdrawn and the session goes on as it was
   * (a running call is not ended for it; an initial INVITE's is, RFC 3261
   * §13.2.2.4).
   */
  answerMissing?(ctx: OfferContext): void;
}

export interface OutgoingInviteOptions {
  /** Request-URI. */
  target: string;
  /** Where to send the INVITE and, later, in-dialog requests. */
  destination: Endpoint;
  /** From value without tag, e.g. `"Reception" <sip:201@surgery.example>`. */
  from: string;
  /** To value, e.g. `<sip:202@surgery.example>`. */
  to: string;
  callId?: string;
  /** Extra lines (P-Asserted-Identity, Route, Privacy…). */
  headers?: Array<[string, string]>;
  /** The offer; absent for a late offer (the peer offers in the 2xx or a reliable 1xx). */
  body?: SessionBody;
  credentials?: CredentialProvider;
  mediaHandler?: SessionMediaHandler;
  /** User part of our Contact. */
  contactUser?: string;
  sessionTimer?: Partial<SessionTimerConfig>;
  /** TLS: the name the peer's certificate must match (RFC 5922 §4), for the INVITE and every later request. */
  tlsServerName?: string;
}

export interface IncomingSessionOptions {
  mediaHandler?: SessionMediaHandler;
  credentials?: CredentialProvider;
  contactUser?: string;
}

/** What a session needs from the UA core that owns it. */
export interface SessionHost {
  readonly transactions: TransactionLayer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: UaConfig;
  random(): number;
  /** A fresh top Via (new branch) for a request to destination. */
  via(destination: Endpoint): string;
  /** Our Contact value as seen from destination. */
  contact(destination: Endpoint, user?: string): string;
  registerDialog(dialog: Dialog, session: InviteSession): void;
  unregisterDialog(dialog: Dialog): void;
  /** Route CANCELs and server-side transport errors for this INVITE transaction to the session. */
  trackServerInvite(tx: ServerTransaction, session: InviteSession): void;
  untrackServerInvite(tx: ServerTransaction): void;
  sessionEnded(session: InviteSession): void;
}
