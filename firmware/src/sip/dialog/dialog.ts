/**
 * A SIP dialog (RFC 3261 §12): the peer-to-peer relationship an INVITE (or
 * another dialog-creating request) sets up, and what every request inside it
 * is built from.
 *
 *            1xx with To tag            2xx
 *   (none) ──────────────────► early ─────────► confirmed
 *      │                         │                  │
 *      │ 2xx                     │ non-2xx final,   │ BYE / 481 / 408
 *      └──────────────► confirmed│ timeout          ▼
 *                                └────────────► terminated
 *
 * The dialog knows nothing of sessions, offers or timers: the UA layer above
 * drives it. It keeps the dialog state of §12.1: id, local and remote
 * sequence numbers, local and remote URI (with tags), remote target, route
 * set and the secure flag.
 */
import { PgwError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { silentLogger } from '../../util/logger.js';
import { Headers } from '../message/headers.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import { StateMachine, type TransitionTable } from '../../util/state-machine.js';
import { dialogKey, type DialogId } from './dialog-id.js';
import { callIdOf, contactUriOf, cseqOf, headerValues, isLooseRoute, routeUri, tagOf, withTag } from './header-utils.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

const TRANSITIONS: TransitionTable<DialogState> = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

export type DialogRole = 'uac' | 'uas';

export interface DialogInit {
  id: DialogId;
  role: DialogRole;
  state: 'early' | 'confirmed';
  /** Our From (UAC) or To (UAS) value, with our tag. */
  localAddr: string;
  /** The peer's To (UAC) or From (UAS) value, with its tag. */
  remoteAddr: string;
  remoteTarget: string;
  /** Route values in the order we put them in Route. */
  routeSet: string[];
  /** The CSeq of the last request we sent; undefined for a fresh UAS dialog. */
  localSeq?: number;
  remoteSeq?: number;
  secure: boolean;
  /** The Contact value we put in requests that need one. */
  localContact: string;
  logger?: Logger;
}

export interface CreateRequestOptions {
  /** Extra header lines, appended in order. */
  headers?: Array<[string, string]>;
  body?: Buffer;
  contentType?: string;
  /** A top Via to put on the request (the UA builds it from the transport). */
  via?: string;
  /** ACK for a 2xx carries the INVITE's CSeq number (RFC 3261 §13.2.2.4); nothing else may set it. */
  cseq?: number;
}

export type InboundCheck = { ok: true } | { ok: false; status: number; reason: string };

/** Requests that carry a Contact when sent inside a dialog (RFC 3261 §8.1.1.8, RFC 3311 §5.1, RFC 6665). */
const NEEDS_CONTACT = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

export class Dialog {
  readonly id: DialogId;
  readonly key: string;
  readonly role: DialogRole;
  readonly secure: boolean;
  readonly localAddr: string;
  private remoteAddrValue: string;
  private remoteTargetValue: string;
  private routeSetValue: string[];
  private localSeqValue: number | undefined;
  private remoteSeqValue: number | undefined;
  localContact: string;
  private readonly machine: StateMachine<DialogState>;

  constructor(init: DialogInit) {
    this.id = { ...init.id };
    this.key = dialogKey(this.id);
    this.role = init.role;
    this.secure = init.secure;
    this.localAddr = init.localAddr;
    this.remoteAddrValue = init.remoteAddr;
    this.remoteTargetValue = init.remoteTarget;
    this.routeSetValue = [...init.routeSet];
    this.localSeqValue = init.localSeq;
    this.remoteSeqValue = init.remoteSeq;
    this.localContact = init.localContact;
    this.machine = new StateMachine<DialogState>('dialog', init.state, TRANSITIONS, init.logger ?? silentLogger());
  }

  /**
   * UAC side (§12.1.2): our request and a 1xx (with To tag) or 2xx. The route
   * set is the response's Record-Route in reverse; the remote target its Contact.
   */
  static fromUacResponse(
    request: SipRequest,
    response: SipResponse,
    options: { localContact: string; logger?: Logger },
  ): Dialog {
    const to = response.headers.get('To');
    const remoteTag = tagOf(to);
    const from = request.headers.get('From');
    const localTag = tagOf(from);
    if (!to || !from || remoteTag === undefined || localTag === undefined) {
      throw new PgwError('PGW_E_SIP_STATE', 'a dialog needs tags on both sides');
    }
    const state = response.status >= 200 && response.status < 300 ? 'confirmed' : 'early';
    return new Dialog({
      id: { callId: callIdOf(request), localTag, remoteTag },
      role: 'uac',
      state,
      localAddr: from,
      remoteAddr: to,
      remoteTarget: contactUriOf(response) ?? request.uri,
      routeSet: headerValues(response, 'Record-Route').reverse(),
      localSeq: cseqOf(request).seq,
      secure: /^sips:/i.test(request.uri),
      localContact: options.localContact,
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  /**
   * UAS side (§12.1.1): the request and the tag we put in To. The route set is
   * the request's Record-Route in order; the remote target its Contact.
   */
  static fromUasRequest(
    request: SipRequest,
    options: { localTag: string; localContact: string; state: 'early' | 'confirmed'; secure?: boolean; logger?: Logger },
  ): Dialog {
    const from = request.headers.get('From');
    const to = request.headers.get('To');
    const remoteTag = tagOf(from);
    if (!from || !to) throw new PgwError('PGW_E_SIP_STATE', 'a dialog needs From and To');
    return new Dialog({
      id: { callId: callIdOf(request), localTag: options.localTag, remoteTag: remoteTag ?? '' },
      role: 'uas',
      state: options.state,
      localAddr: tagOf(to) === undefined ? withTag(to, options.localTag) : to,
      remoteAddr: from,
      remoteTarget: contactUriOf(request) ?? '',
      routeSet: headerValues(request, 'Record-Route'),
      remoteSeq: cseqOf(request).seq,
      secure: options.secure ?? /^sips:/i.test(request.uri),
      localContact: options.localContact,
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  get state(): DialogState {
    return this.machine.state;
  }
  get remoteAddr(): string {
    return this.remoteAddrValue;
  }
  get remoteTarget(): string {
    return this.remoteTargetValue;
  }
  get routeSet(): readonly string[] {
    return this.routeSetValue;
  }
  get localSeq(): number | undefined {
    return this.localSeqValue;
  }
  get remoteSeq(): number | undefined {
    return this.remoteSeqValue;
  }

  /**
   * Early → confirmed. For the UAC, the 2xx recomputes the route set and
   * remote target (§13.2.2.4: "the route set MUST be recomputed based on the 2xx").
   */
  confirm(response?: SipResponse): void {
    if (this.state === 'early') this.machine.transition('confirmed');
    if (response && this.role === 'uac') {
      this.routeSetValue = headerValues(response, 'Record-Route').reverse();
      const contact = contactUriOf(response);
      if (contact !== undefined) this.remoteTargetValue = contact;
    }
  }

  terminate(): void {
    if (this.state !== 'terminated') this.machine.transition('terminated');
  }

  /**
   * Target refresh (§12.2: re-INVITE and UPDATE, requests and their 2xx):
   * a Contact replaces the remote target; the route set never changes.
   */
  refreshTarget(message: SipRequest | SipResponse): void {
    const contact = contactUriOf(message);
    if (contact !== undefined) this.remoteTargetValue = contact;
  }

  /**
   * Checks on a request received in this dialog (§12.2.2) and, when it
   * passes, records its CSeq. ACK and CANCEL reuse the INVITE's number and are
   * not checked.
   */
  receiveRequest(request: SipRequest): InboundCheck {
    if (request.method === 'ACK' || request.method === 'CANCEL') return { ok: true };
    if (this.state === 'terminated') return { ok: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
    const seq = cseqOf(request).seq;
    if (this.remoteSeqValue !== undefined && seq < this.remoteSeqValue) {
      return { ok: false, status: 500, reason: 'CSeq Out of Order' };
    }
    this.remoteSeqValue = seq;
    return { ok: true };
  }

  /** The CSeq number the next request will get, without consuming it. */
  peekNextSeq(): number {
    return (this.localSeqValue ?? 0) + 1;
  }

  /**
   * A request inside this dialog (§12.2.1.1). The Request-URI is the remote
   * target and Route the route set, unless the first route is a strict
   * router (no `lr`): then the Request-URI is that route's URI and the remote
   * target goes last in Route (§12.2.1.1, strict routing kept minimal).
   */
  createRequest(method: string, options: CreateRequestOptions = {}): SipRequest {
    if (this.state === 'terminated' && method !== 'ACK') {
      throw new PgwError('PGW_E_SIP_STATE', `dialog terminated: cannot send ${method}`);
    }
    let seq: number;
    if (method === 'ACK') {
      if (options.cseq === undefined) throw new PgwError('PGW_E_SIP_STATE', 'ACK needs the INVITE CSeq');
      seq = options.cseq;
    } else {
      seq = this.peekNextSeq();
      this.localSeqValue = seq;
    }

    let uri = this.remoteTargetValue;
    let routes = [...this.routeSetValue];
    const first = routes[0];
    if (first !== undefined && !isLooseRoute(first)) {
      uri = routeUri(first);
      routes = [...routes.slice(1), `<${this.remoteTargetValue}>`];
    }

    const h = new Headers();
    if (options.via !== undefined) h.append('Via', options.via);
    h.append('Max-Forwards', '70');
    for (const r of routes) h.append('Route', r);
    h.append('From', this.localAddr);
    h.append('To', this.remoteAddrValue);
    h.append('Call-ID', this.id.callId);
    h.append('CSeq', `${seq} ${method}`);
    if (NEEDS_CONTACT.has(method)) h.append('Contact', this.localContact);
    for (const [n, v] of options.headers ?? []) h.append(n, v);
    const body = options.body ?? Buffer.alloc(0);
    if (body.length > 0 && options.contentType) h.set('Content-Type', options.contentType);
    h.set('Content-Length', String(body.length));
    return { kind: 'request', method, uri, headers: h, body };
  }
}
