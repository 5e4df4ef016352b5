/**
 * The UA core (RFC 3261 §8, §12.2.2): the transaction user that owns the
 * dialog table and the INVITE sessions.
 *
 * Inbound routing:
 *   request with a To tag ─► its dialog's session; none: 481 (§12.2.2)
 *   ACK (no transaction) ──► its dialog's session, or dropped
 *   INVITE without To tag ─► new UAS InviteSession ─► delegate.onInvite
 *   CANCEL ────────────────► answered by the transaction layer; the session sends 487
 *   anything else ─────────► delegate.onRequest (REGISTER, OPTIONS, SUBSCRIBE, MESSAGE, NOTIFY…)
 *
 * Outbound: invite() for calls, sendRequest() for out-of-dialog requests
 * (OPTIONS, REGISTER, MESSAGE) with digest retry. Via and Contact use the
 * transport's localFor(destination), so a multi-homed box advertises the
 * address of the interface that faces each peer.
 */
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { silentLogger } from '../../util/logger.js';
import type { Dialog } from '../dialog/dialog.js';
import { DialogTable } from '../dialog/dialog-table.js';
import { cseqOf, withTag } from '../dialog/header-utils.js';
import { Headers } from '../message/headers.js';
import { createResponse, generateBranch, generateCallId, generateTag } from '../message/index.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { ServerTransaction, TransactionLayer, TransactionUser } from '../transaction/api.js';
import type { Endpoint, InboundMessage, TransportLayer } from '../transport/api.js';
import { AuthRetry, replaceHeader, type CredentialProvider } from './credentials.js';
import { InviteSession } from './invite-session.js';
import type { IncomingSessionOptions, OutgoingInviteOptions, SessionHost } from './session-types.js';
import { uaConfig, type UaConfig } from './ua-config.js';

export interface UserAgentDelegate {
  /**
   * A new incoming call. Answer with session.progress()/accept()/reject(); set
   * session.mediaHandler for later offers. Without a delegate calls get 480.
   */
  onInvite?(session: InviteSession, request: SipRequest): void;
  /**
   * A request outside any INVITE session: REGISTER, OPTIONS, SUBSCRIBE,
   * MESSAGE, NOTIFY, and in-dialog requests of other usages. Answer on tx.
   * Without a delegate: OPTIONS 200, others 405.
   */
  onRequest?(request: SipRequest, tx: ServerTransaction | null, inbound: InboundMessage): void;
}

export interface UserAgentCoreOptions {
  transactions: TransactionLayer;
  transport: Pick<TransportLayer, 'localFor'>;
  clock: Clock;
  logger?: Logger;
  config?: Partial<UaConfig>;
  /** Random source in [0, 1) for glare waits and CSeq starts; Math.random by default. */
  random?: () => number;
  delegate?: UserAgentDelegate;
  /** Options applied to every incoming session before the delegate sees it. */
  incoming?: IncomingSessionOptions;
}

export interface OutOfDialogRequestOptions {
  method: string;
  /** Request-URI. */
  uri: string;
  destination: Endpoint;
  /** From value without tag. */
  from: string;
  to: string;
  fromTag?: string;
  callId?: string;
  /** First CSeq number; auth retries use the next ones. */
  cseq?: number;
  headers?: Array<[string, string]>;
  body?: Buffer;
  contentType?: string;
  credentials?: CredentialProvider;
  /** Add our Contact (true, or the user part to use). REGISTER callers build their own. */
  contact?: boolean | string;
  /** TLS: the name the peer's certificate must match (RFC 5922 §4). */
  tlsServerName?: string;
}

/** An out-of-dialog transaction's outcome: the final response and the request that got it. */
export interface OutOfDialogResult {
  response: SipResponse;
  request: SipRequest;
}

export class UserAgentCore implements TransactionUser, SessionHost {
  readonly transactions: TransactionLayer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: UaConfig;
  delegate: UserAgentDelegate;
  private readonly transport: Pick<TransportLayer, 'localFor'>;
  private readonly randomSource: () => number;
  private readonly incomingOptions: IncomingSessionOptions;
  private readonly dialogs = new DialogTable<InviteSession>();
  private readonly serverInvites = new Map<string, InviteSession>();
  private readonly live = new Set<InviteSession>();

  constructor(options: UserAgentCoreOptions) {
    this.transactions = options.transactions;
    this.transport = options.transport;
    this.clock = options.clock;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'sip-ua' });
    this.config = uaConfig(options.config);
    this.randomSource = options.random ?? Math.random;
    this.delegate = options.delegate ?? {};
    this.incomingOptions = options.incoming ?? {};
    this.transactions.setUser(this);
  }

  // ───────────────────────────── outbound ─────────────────────────────

  /** Place a call. The INVITE is on its way when this returns. */
  invite(options: OutgoingInviteOptions): InviteSession {
    const s = InviteSession.outgoing(this, options);
    if (s.state !== 'terminated') this.live.add(s);
    return s;
  }

  /**
   * Send a request outside any dialog and resolve with its final response
   * (a 408/503 stand-in on timeout or transport error), retrying once per
   * realm with credentials on 401/407.
   */
  sendRequest(options: OutOfDialogRequestOptions): Promise<OutOfDialogResult> {
    const auth = new AuthRetry(options.credentials);
    const fromTag = options.fromTag ?? generateTag();
    const callId = options.callId ?? generateCallId();
    let seq = options.cseq ?? 1 + Math.floor(this.randomSource() * 10_000);
    let extra = options.headers ?? [];
    return new Promise((resolve) => {
      const attempt = (): void => {
        const h = new Headers();
        h.append('Via', this.via(options.destination));
        h.append('Max-Forwards', '70');
        h.append('From', withTag(options.from, fromTag));
        h.append('To', options.to);
        h.append('Call-ID', callId);
        h.append('CSeq', `${seq} ${options.method}`);
        if (options.contact) {
          h.append('Contact', this.contact(options.destination, typeof options.contact === 'string' ? options.contact : this.config.contactUser));
        }
        if (this.config.userAgent) h.append('User-Agent', this.config.userAgent);
        for (const [n, v] of extra) h.append(n, v);
        const body = options.body ?? Buffer.alloc(0);
        if (body.length > 0 && options.contentType) h.set('Content-Type', options.contentType);
        h.set('Content-Length', String(body.length));
        const req: SipRequest = { kind: 'request', method: options.method, uri: options.uri, headers: h, body };
        let done = false;
        this.transactions.sendRequest(req, {
          destination: options.destination,
          ...(options.tlsServerName ? { tlsServerName: options.tlsServerName } : {}),
          handlers: {
            onResponse: (r) => {
              if (r.status < 200 || done) return;
              done = true;
              const hdr = r.status === 401 || r.status === 407 ? auth.answer(r, req) : undefined;
              if (hdr) {
                extra = replaceHeader(extra, hdr[0], hdr[1]);
                seq++;
                attempt();
                return;
              }
              resolve({ response: r, request: req });
            },
            onTimeout: () => {
              if (done) return;
              done = true;
              resolve({ response: createResponse(req, 408), request: req });
            },
            onTransportError: (err) => {
              if (done) return;
              done = true;
              // The stand-in's reason phrase says what failed (a refused TLS certificate, a refused connection): it is never sent.
              const why = err.message.replace(/[\r\n]+/g, ' ').slice(0, 200);
              resolve({ response: createResponse(req, 503, `Transport Error: ${why}`), request: req });
            },
          },
        });
      };
      attempt();
    });
  }

  /** Live INVITE sessions. */
  sessions(): InviteSession[] {
    return [...this.live];
  }

  /** End every session (BYE, CANCEL or 480), for shutdown. */
  terminateAll(): void {
    for (const s of [...this.live]) {
      try {
        s.terminate();
      } catch (err) {
        this.logger.warn({ err: String(err), callId: s.callId }, 'could not terminate a session');
      }
    }
  }

  // ───────────────────────────── TransactionUser ─────────────────────────────

  onRequest(request: SipRequest, tx: ServerTransaction | null, inbound: InboundMessage): void {
    try {
      this.route(request, tx, inbound);
    } catch (err) {
      this.logger.error({ err: String(err), method: request.method }, 'request handling failed');
      if (tx && request.method !== 'ACK') {
        try {
          tx.respond(createResponse(request, 500));
        } catch {
          /* the transaction is gone */
        }
      }
    }
  }

  onCancel(inviteTx: ServerTransaction, _cancel: SipRequest): void {
    this.serverInvites.get(inviteTx.id)?.receiveCancel(inviteTx);
  }

  /** A response of one of our INVITE server transactions could not be sent (§17.2.4). */
  onTransportError(tx: ServerTransaction, error: Error): void {
    this.serverInvites.get(tx.id)?.receiveTransportError(tx, error);
  }

  onStrayResponse(response: SipResponse, _inbound: InboundMessage): void {
    if (response.status < 200 || response.status >= 300) return;
    let method: string;
    try {
      method = cseqOf(response).method;
    } catch {
      return;
    }
    if (method !== 'INVITE') return;
    this.dialogs.matchResponse(response)?.receiveStray2xx(response);
  }

  private route(request: SipRequest, tx: ServerTransaction | null, inbound: InboundMessage): void {
    const id = DialogTable.requestId(request);
    if (id) {
      const session = this.dialogs.get(id);
      if (session) {
        session.receiveRequest(request, tx, inbound);
        return;
      }
      if (request.method === 'ACK' || !tx) return;
      if (!['INVITE', 'BYE', 'UPDATE', 'PRACK', 'CANCEL'].includes(request.method) && this.delegate.onRequest) {
        // Other dialog usages (subscriptions) live above us.
        this.delegate.onRequest(request, tx, inbound);
        return;
      }
      tx.respond(createResponse(request, 481));
      return;
    }
    if (request.method === 'ACK') return; // an ACK outside any dialog: nothing to do
    if (!tx) return;
    switch (request.method) {
      case 'INVITE': {
        const session = InviteSession.incoming(this, request, tx, this.incomingOptions);
        if (session.state === 'terminated') return;
        this.live.add(session);
        if (this.delegate.onInvite) this.delegate.onInvite(session, request);
        else session.reject({ status: 480 });
        return;
      }
      case 'CANCEL':
      case 'BYE':
      case 'PRACK':
      case 'UPDATE':
        tx.respond(createResponse(request, 481));
        return;
      default:
        if (this.delegate.onRequest) this.delegate.onRequest(request, tx, inbound);
        else if (request.method === 'OPTIONS') tx.respond(createResponse(request, 200, undefined, { headers: [['Allow', this.config.allow.join(', ')]] }));
        else tx.respond(createResponse(request, 405, undefined, { headers: [['Allow', this.config.allow.join(', ')]] }));
    }
  }

  // ───────────────────────────── SessionHost ─────────────────────────────

  random(): number {
    return this.randomSource();
  }

  via(destination: Endpoint): string {
    const local = this.transport.localFor(destination);
    return `SIP/2.0/${local.protocol.toUpperCase()} ${hostPort(local)};branch=${generateBranch()};rport`;
  }

  contact(destination: Endpoint, user?: string): string {
    const local = this.transport.localFor(destination);
    const u = user ? `${user}@` : '';
    const transport = local.protocol === 'udp' ? '' : `;transport=${local.protocol}`;
    return `<sip:${u}${hostPort(local)}${transport}>`;
  }

  registerDialog(dialog: Dialog, session: InviteSession): void {
    this.dialogs.add(dialog.id, session);
  }

  unregisterDialog(dialog: Dialog): void {
    this.dialogs.remove(dialog.id);
  }

  trackServerInvite(tx: ServerTransaction, session: InviteSession): void {
    this.serverInvites.set(tx.id, session);
  }

  untrackServerInvite(tx: ServerTransaction): void {
    this.serverInvites.delete(tx.id);
  }

  sessionEnded(session: InviteSession): void {
    this.live.delete(session);
  }

  /** For tests and diagnostics. */
  counts(): { sessions: number; dialogs: number; serverInvites: number } {
    return { sessions: this.live.size, dialogs: this.dialogs.size(), serverInvites: this.serverInvites.size };
  }
}

function hostPort(e: Endpoint): string {
  const host = e.address.includes(':') ? `[${e.address}]` : e.address;
  return `${host}:${e.port}`;
}
