/**
 * The transaction layer (RFC 3261 §17, RFC 6026) over a TransportLayer.
 *
 * Inbound requests:
 *
 *   request ─┬─ ACK ──> matches an INVITE server tx? ─ yes ─> tx.ack() (Completed → Confirmed; Accepted → TU)
 *            │                                       └ no ──> TU onRequest(ack, null)   (ACK for 2xx, §13.2.2.4)
 *            ├─ matches a server tx (§17.2.3) ─> retransmission: the tx resends its last response
 *            ├─ CANCEL ─> target tx? ─ no ─> 481 (§9.2)
 *            │                       └ yes ─> 200 to the CANCEL, TU onCancel(), then 487 to the
 *            │                                INVITE unless the TU sent a final response in onCancel
 *            ├─ merged (§8.2.2.2: no To tag, same From tag/Call-ID/CSeq as a live tx, other branch) ─> 482
 *            └─ new server tx ─> TU onRequest(request, tx)   (no TU: 503; the TU throws: 500)
 *
 * Inbound responses go to the client transaction of their branch and CSeq
 * method (§17.1.3), else to the TU's onStrayResponse (2xx retransmissions).
 *
 * Who sends the 487: the layer, right after onCancel returns, if the INVITE
 * server transaction is still in Proceeding. A TU that wants to answer the
 * INVITE itself (its own 487, or a 200 that won the race) does it inside
 * onCancel; inside or later, tx.cancelled tells it a CANCEL came.
 */
import type { Clock } from '../../util/clock.js';
import { PgwError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { createResponse, formatVia, generateBranch, generateTag, validateResponse } from '../message/index.js';
import type { SipRequest, SipResponse, Via } from '../message/types.js';
import type { Endpoint, InboundMessage, TransportLayer } from '../transport/api.js';
import { responseRoute } from '../transport/response-route.js';
import { readTopVia, writeTopVia } from '../transport/via-stamp.js';
import type { ClientTransaction, SendRequestOptions, ServerTransaction, TransactionLayer, TransactionUser } from './api.js';
import type { ClientTx, ClientTxEnv, ClientTxInit } from './client-transaction.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { clientKey, mergeKey, requestIdentity, responseKey } from './matching.js';
import type { RequestIdentity } from './matching.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import type { ServerTx, ServerTxEnv } from './server-transaction.js';
import { DEFAULT_TIMER_BASE } from './timers.js';
import type { TimerBase } from './timers.js';

export interface TransactionLayerOptions {
  transport: TransportLayer;
  clock: Clock;
  logger: Logger;
  /** RFC 3261 T1/T2/T4 in ms (defaults 500/4000/5000). */
  timers?: Partial<TimerBase>;
}

export class SipTransactionLayer implements TransactionLayer {
  private readonly transport: TransportLayer;
  private readonly logger: Logger;
  private readonly clientTxs = new Map<string, ClientTx>();
  /** Server transactions by §17.2.3 key. */
  private readonly serverTxs = new Map<string, ServerTx>();
  /** Non-CANCEL server transactions by the key a CANCEL or an RFC 2543 ACK uses to find them. */
  private readonly targets = new Map<string, ServerTx>();
  /** Live server transactions by §8.2.2.2 merge key. */
  private readonly merged = new Map<string, ServerTx>();
  private readonly clientEnv: ClientTxEnv;
  private readonly serverEnv: ServerTxEnv;
  private user: TransactionUser | undefined;
  private readonly unsubscribe: () => void;

  constructor(options: TransactionLayerOptions) {
    this.transport = options.transport;
    this.logger = options.logger.child({ component: 'sip-transaction' });
    const timers: TimerBase = { ...DEFAULT_TIMER_BASE, ...options.timers };
    this.clientEnv = {
      clock: options.clock,
      logger: this.logger,
      transport: this.transport,
      timers,
      terminated: (tx) => {
        if (this.clientTxs.get(tx.id) === tx) this.clientTxs.delete(tx.id);
      },
    };
    this.serverEnv = {
      clock: options.clock,
      logger: this.logger,
      transport: this.transport,
      timers,
      terminated: (tx) => this.forgetServer(tx),
      transportError: (tx, err) => this.tellUser('onTransportError', (u) => u.onTransportError?.(tx, err)),
      ackTimeout: (tx) => this.tellUser('onAckTimeout', (u) => u.onAckTimeout?.(tx)),
      passAck: (ack, inbound) => this.tellUser('onRequest', (u) => u.onRequest(ack, null, inbound)),
    };
    this.unsubscribe = this.transport.onMessage((inbound) => this.receive(inbound));
  }

  setUser(user: TransactionUser): void {
    this.user = user;
  }

  count(): { client: number; server: number } {
    return { client: this.clientTxs.size, server: this.serverTxs.size };
  }

  sendRequest(request: SipRequest, options: SendRequestOptions): ClientTransaction {
    if (request.method === 'ACK') {
      throw new PgwError('PGW_E_SIP_STATE', 'ACK has no client transaction: the INVITE transaction sends it for non-2xx, sendStateless() for 2xx');
    }
    let destination = options.destination;
    let via = this.ensureVia(request, destination);
    let udpFallback: ClientTxInit['udpFallback'];
    // §18.1.1: the transport may move a large UDP request to TCP; the Via
    // must say so, and the transaction then runs as on a reliable transport.
    const protocol = this.transport.outboundProtocol?.(request, destination) ?? destination.protocol;
    if (protocol !== destination.protocol) {
      udpFallback = { destination, topVia: via };
      destination = { ...destination, protocol };
      via = { ...via, transport: protocol.toUpperCase(), port: this.transport.localFor(destination).port };
      writeTopVia(request, via);
    }
    const id = clientKey(via.params.get('branch')!, request.method);
    if (this.clientTxs.has(id)) {
      throw new PgwError('PGW_E_SIP_STATE', `a client transaction ${id} already exists`, { context: { branch: via.params.get('branch'), method: request.method } });
    }
    const init: ClientTxInit = { id, request, destination, handlers: options.handlers };
    if (options.tlsServerName) init.tlsServerName = options.tlsServerName;
    if (udpFallback) init.udpFallback = udpFallback;
    const tx = request.method === 'INVITE' ? new InviteClientTransaction(this.clientEnv, init) : new NonInviteClientTransaction(this.clientEnv, init);
    this.clientTxs.set(id, tx);
    tx.start();
    return tx;
  }

  async sendStateless(request: SipRequest, destination: Endpoint, options: { tlsServerName?: string } = {}): Promise<void> {
    this.ensureVia(request, destination);
    await this.transport.send(request, destination, options.tlsServerName ? { tlsServerName: options.tlsServerName } : {});
  }

  async sendResponseStateless(response: SipResponse, inbound: InboundMessage): Promise<void> {
    const via = readTopVia(response) ?? readTopVia(inbound.message);
    if (!via) throw new PgwError('PGW_E_SIP_TRANSPORT', 'response has no Via to route by');
    const route = responseRoute(via, inbound);
    await this.transport.send(response, route.destination, route.options);
  }

  close(): void {
    this.unsubscribe();
    for (const tx of this.clientTxs.values()) tx.abort();
    for (const tx of this.serverTxs.values()) tx.abort();
    this.clientTxs.clear();
    this.serverTxs.clear();
    this.targets.clear();
    this.merged.clear();
  }

  // ---- inbound ------------------------------------------------------------

  private receive(inbound: InboundMessage): void {
    try {
      if (inbound.message.kind === 'response') this.receiveResponse(inbound.message, inbound);
      else this.receiveRequest(inbound.message, inbound);
    } catch (err) {
      this.logger.error({ err: (err as Error).message, stack: (err as Error).stack }, 'transaction layer failed on an inbound message');
    }
  }

  private receiveResponse(response: SipResponse, inbound: InboundMessage): void {
    // §8.1.3.3: a response with more than one Via was not meant for us.
    const problem = validateResponse(response);
    if (problem) {
      this.logger.debug({ problem, status: response.status }, 'response discarded');
      return;
    }
    const key = responseKey(response);
    const tx = key === undefined ? undefined : this.clientTxs.get(key);
    if (tx) {
      tx.receive(response);
      return;
    }
    this.tellUser('onStrayResponse', (u) => u.onStrayResponse?.(response, inbound));
  }

  private receiveRequest(request: SipRequest, inbound: InboundMessage): void {
    const id = requestIdentity(request);
    if (!id) {
      this.logger.debug({ method: request.method }, 'request without what transaction matching needs; dropped');
      return;
    }
    if (request.method === 'ACK') {
      this.receiveAck(request, id, inbound);
      return;
    }
    const existing = this.serverTxs.get(id.key);
    if (existing) {
      existing.retransmission();
      return;
    }
    if (request.method === 'CANCEL') {
      this.receiveCancel(request, id, inbound);
      return;
    }
    const merge = mergeKey(id);
    const other = merge === undefined ? undefined : this.merged.get(merge);
    if (other) {
      // §8.2.2.2: the same request reached us twice by different paths.
      const tx = this.createServerTx(request, id, inbound, { target: false });
      tx.respond(createResponse(request, 482, 'Loop Detected', { toTag: generateTag() }));
      return;
    }
    const tx = this.createServerTx(request, id, inbound, { target: true, ...(merge === undefined ? {} : { merge }) });
    const user = this.user;
    if (!user) {
      tx.respond(createResponse(request, 503, 'Service Unavailable', { toTag: generateTag() }));
      return;
    }
    try {
      user.onRequest(request, tx, inbound);
    } catch (err) {
      this.logger.error({ err: (err as Error).message, stack: (err as Error).stack, method: request.method }, 'TU onRequest threw');
      if (!tx.finalSent && tx.state !== 'Terminated') this.respondQuietly(tx, createResponse(request, 500, 'Server Internal Error', { toTag: generateTag() }));
    }
  }

  private receiveAck(ack: SipRequest, id: RequestIdentity, inbound: InboundMessage): void {
    let tx: ServerTx | undefined;
    if (id.rfc3261) {
      tx = this.serverTxs.get(id.key);
    } else {
      // RFC 2543: the ACK's To tag must be the one our response carried.
      const t = this.targets.get(id.target);
      if (t && t.toTag !== undefined && t.toTag === id.toTag) tx = t;
    }
    if (tx && tx.method === 'INVITE') {
      tx.ack(ack, inbound);
      return;
    }
    // The ACK for a 2xx is its own transaction-less request (§17.1.1.1, §13.2.2.4).
    this.tellUser('onRequest', (u) => u.onRequest(ack, null, inbound));
  }

  private receiveCancel(cancel: SipRequest, id: RequestIdentity, inbound: InboundMessage): void {
    const target = this.targets.get(id.target);
    const cancelTx = this.createServerTx(cancel, id, inbound, { target: false });
    if (!target) {
      cancelTx.respond(createResponse(cancel, 481, 'Call/Transaction Does Not Exist', { toTag: generateTag() }));
      return;
    }
    // §9.2: the CANCEL is answered 200 whatever state the target is in; its
    // To tag SHOULD equal the one of the response to the request.
    const tag = target.toTag ?? generateTag();
    cancelTx.respond(createResponse(cancel, 200, 'OK', { toTag: tag }));
    if (target.method !== 'INVITE' || target.finalSent || target.state !== 'Proceeding') return;
    target.markCancelled();
    const user = this.user;
    if (user?.onCancel) {
      try {
        user.onCancel(target, cancel);
      } catch (err) {
        this.logger.error({ err: (err as Error).message, stack: (err as Error).stack }, 'TU onCancel threw');
      }
    }
    if (!target.finalSent && target.state === 'Proceeding') {
      this.respondQuietly(target, createResponse(target.request, 487, 'Request Terminated', { toTag: target.toTag ?? tag }));
    }
  }

  private createServerTx(request: SipRequest, id: RequestIdentity, inbound: InboundMessage, index: { target: boolean; merge?: string }): ServerTx {
    const init = { id: id.key, request, inbound };
    const tx: ServerTx = request.method === 'INVITE' ? new InviteServerTransaction(this.serverEnv, init) : new NonInviteServerTransaction(this.serverEnv, init);
    this.serverTxs.set(id.key, tx);
    if (index.target) {
      tx.index.target = id.target;
      this.targets.set(id.target, tx);
    }
    if (index.merge !== undefined) {
      tx.index.merge = index.merge;
      this.merged.set(index.merge, tx);
    }
    return tx;
  }

  private forgetServer(tx: ServerTx): void {
    const { key, target, merge } = tx.index;
    if (this.serverTxs.get(key) === tx) this.serverTxs.delete(key);
    if (target !== undefined && this.targets.get(target) === tx) this.targets.delete(target);
    if (merge !== undefined && this.merged.get(merge) === tx) this.merged.delete(merge);
  }

  // ---- helpers ------------------------------------------------------------

  /** The top Via of an outbound request, added or completed (see TransactionLayer.sendRequest). */
  private ensureVia(request: SipRequest, destination: Endpoint): Via {
    const via = readTopVia(request);
    if (!via) {
      const local = this.transport.localFor(destination);
      const made: Via = {
        transport: destination.protocol.toUpperCase(),
        host: local.address.includes(':') ? `[${local.address}]` : local.address,
        port: local.port,
        // RFC 3581 §3: ask for rport so responses find their way back through NAT.
        params: new Map<string, string | null>([
          ['branch', generateBranch()],
          ['rport', null],
        ]),
      };
      request.headers.prepend('Via', formatVia(made));
      return made;
    }
    if (via.params.get('branch')) return via;
    const params = new Map(via.params);
    params.set('branch', generateBranch());
    const completed: Via = { ...via, params };
    writeTopVia(request, completed);
    return completed;
  }

  private respondQuietly(tx: ServerTransaction, response: SipResponse): void {
    try {
      tx.respond(response);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message, status: response.status }, 'response not sent');
    }
  }

  private tellUser(what: string, fn: (user: TransactionUser) => void): void {
    const user = this.user;
    if (!user) return;
    try {
      fn(user);
    } catch (err) {
      this.logger.error({ err: (err as Error).message, stack: (err as Error).stack }, `TU ${what} threw`);
    }
  }
}

/** Create the transaction layer on a transport (RFC 3261 §17). */
export function createTransactionLayer(options: TransactionLayerOptions): SipTransactionLayer {
  return new SipTransactionLayer(options);
}
