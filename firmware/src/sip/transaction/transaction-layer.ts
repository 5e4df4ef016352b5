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
 *
 * Completed transactions (issue 2, memory under a REGISTER storm): once a
 * transaction only waits for Timer J, I, L, K or D, the maps hold a compact
 * record in its place (completed-transactions.ts), ended by one ExpiryQueue
 * per timer. The records still absorb retransmissions, resend the final
 * response or the ACK, pass Accepted's ACKs up, answer CANCELs and count for
 * merged-request detection, exactly as the transactions did.
 *
 * Non-INVITE server records are bounded (maxCompletedNonInvite, oldest
 * evicted first, a warning at most once a minute): they are the ones a peer
 * can make us keep by sending requests. Evicting one only matters if its
 * request is retransmitted later still, which then reaches the TU as a new
 * request. For REGISTER that is harmless: a retransmission that was
 * challenged is challenged again; one with credentials carries the
 * nonce-count already seen, so it gets 401 stale and the phone authenticates
 * afresh, and the location service refuses a Call-ID/CSeq it has applied
 * (RFC 3261 §10.3 step 7). OPTIONS is answered again. Other methods are
 * checked by their dialog's CSeq (§12.2.2). INVITE records are never evicted
 * (a retransmitted INVITE taken as new would be a second call) nor are
 * client ones (we start those, at our own rate).
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
import { CompletedClientTx, CompletedServerTx } from './completed-transactions.js';
import { ExpiryQueue } from './expiry-queue.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { clientKey, mergeKey, requestIdentity, responseKey } from './matching.js';
import type { RequestIdentity } from './matching.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import type { ServerTx, ServerTxEnv } from './server-transaction.js';
import { DEFAULT_TIMER_BASE, timerValues } from './timers.js';
import type { TimerBase } from './timers.js';

export interface TransactionLayerOptions {
  transport: TransportLayer;
  clock: Clock;
  logger: Logger;
  /** RFC 3261 T1/T2/T4 in ms (defaults 500/4000/5000). */
  timers?: Partial<TimerBase>;
  /**
   * At most this many completed non-INVITE server transactions kept for
   * Timer J; beyond it the oldest is forgotten early (see the header).
   * Default DEFAULT_MAX_COMPLETED_NON_INVITE.
   */
  maxCompletedNonInvite?: number;
}

/**
 * A practice's phones re-registering all at once make a few thousand; the
 * gateway's whole REGISTER capacity (about 5,000 transactions/s, 2,500
 * authenticated registrations) held for 32 s would be 160,000. Past 100,000
 * the oldest are over 20 s old, long after any retransmission but a rare
 * lost-and-lost-again one (see the header for what happens to that).
 */
export const DEFAULT_MAX_COMPLETED_NON_INVITE = 100_000;

/** At most one eviction warning this often. */
const EVICTION_WARNING_MS = 60_000;

type ServerEntry = ServerTx | CompletedServerTx;
type ClientEntry = ClientTx | CompletedClientTx;

export class SipTransactionLayer implements TransactionLayer {
  private readonly transport: TransportLayer;
  private readonly logger: Logger;
  private readonly clientTxs = new Map<string, ClientEntry>();
  /** Server transactions by §17.2.3 key. */
  private readonly serverTxs = new Map<string, ServerEntry>();
  /** Non-CANCEL server transactions by the key a CANCEL or an RFC 2543 ACK uses to find them. */
  private readonly targets = new Map<string, ServerEntry>();
  /** Server transactions (live or completed) by §8.2.2.2 merge key. */
  private readonly merged = new Map<string, ServerEntry>();
  /** Completed records by the timer that ends them. */
  private readonly serverQueues: Record<'J' | 'I' | 'L', ExpiryQueue<CompletedServerTx>>;
  private readonly clientQueues: Record<'K' | 'D', ExpiryQueue<CompletedClientTx>>;
  private readonly clock: Clock;
  private readonly clientEnv: ClientTxEnv;
  private readonly serverEnv: ServerTxEnv;
  private user: TransactionUser | undefined;
  private readonly unsubscribe: () => void;
  private closed = false;
  private readonly maxCompletedNonInvite: number;
  private evictedSinceWarning = 0;
  private lastEvictionWarning = -Infinity;

  constructor(options: TransactionLayerOptions) {
    this.transport = options.transport;
    this.logger = options.logger.child({ component: 'sip-transaction' });
    this.clock = options.clock;
    const timers: TimerBase = { ...DEFAULT_TIMER_BASE, ...options.timers };
    // Records exist only where the wait is not 0, i.e. on unreliable transports
    // for J, I, K and D (Timer L is the same on all).
    const t = timerValues(timers, false);
    const clock = options.clock;
    const serverQueue = (lifetimeMs: number, max?: number): ExpiryQueue<CompletedServerTx> =>
      new ExpiryQueue<CompletedServerTx>({
        clock,
        lifetimeMs,
        onExpire: (record) => this.dropServerRecord(record),
        ...(max === undefined ? {} : { max, onEvict: (record: CompletedServerTx) => this.evicted(record) }),
      });
    const clientQueue = (lifetimeMs: number): ExpiryQueue<CompletedClientTx> =>
      new ExpiryQueue<CompletedClientTx>({ clock, lifetimeMs, onExpire: (record) => this.dropClientRecord(record) });
    this.maxCompletedNonInvite = Math.max(1, options.maxCompletedNonInvite ?? DEFAULT_MAX_COMPLETED_NON_INVITE);
    this.serverQueues = {
      J: serverQueue(t.J, this.maxCompletedNonInvite),
      I: serverQueue(t.I),
      L: serverQueue(t.L),
    };
    this.clientQueues = { K: clientQueue(t.K), D: clientQueue(t.D) };
    this.clientEnv = {
      clock: options.clock,
      logger: this.logger,
      transport: this.transport,
      timers,
      terminated: (tx) => this.forgetClient(tx),
      retire: (tx, record, timer) => this.retireClient(tx, record, timer),
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
      retire: (tx, record, timer) => this.retireServer(tx, record, timer),
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
    this.closed = true;
    this.unsubscribe();
    for (const tx of this.clientTxs.values()) if (!(tx instanceof CompletedClientTx)) tx.abort();
    for (const tx of this.serverTxs.values()) if (!(tx instanceof CompletedServerTx)) tx.abort();
    for (const q of Object.values(this.serverQueues)) q.clear();
    for (const q of Object.values(this.clientQueues)) q.clear();
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
    if (tx instanceof CompletedClientTx) {
      // Completed: absorbed (§17.1.2.2), or for INVITE a 300-699 gets the ACK again (§17.1.1.2).
      const ack = tx.ack;
      if (ack && response.status >= 300) {
        this.transport.send(ack.message, ack.destination, ack.options).catch((err: unknown) => {
          this.logger.debug({ tx: tx.id, err: (err as Error).message }, 'ACK not sent again; transaction ended');
          this.dropClientRecord(tx);
          this.clientQueues.D.delete(tx);
        });
      }
      return;
    }
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
    if (existing instanceof CompletedServerTx) {
      this.retransmissionToRecord(existing);
      return;
    }
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
    let tx: ServerEntry | undefined;
    if (id.rfc3261) {
      tx = this.serverTxs.get(id.key);
    } else {
      // RFC 2543: the ACK's To tag must be the one our response carried.
      const t = this.targets.get(id.target);
      if (t && t.toTag !== undefined && t.toTag === id.toTag) tx = t;
    }
    if (tx instanceof CompletedServerTx && tx.method === 'INVITE') {
      // Accepted: the ACK for the 2xx goes to the TU (RFC 6026 §7.1); Confirmed: absorbed (§17.2.1).
      if (tx.state === 'Accepted') this.tellUser('onRequest', (u) => u.onRequest(ack, null, inbound));
      return;
    }
    if (tx && !(tx instanceof CompletedServerTx) && tx.method === 'INVITE') {
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
    if (target instanceof CompletedServerTx) return;
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

  /** A transaction terminated (timer, transport error): forget it, or the record it retired to. */
  private forgetServer(tx: ServerTx): void {
    const record = tx.retiredAs;
    if (record) {
      this.serverQueues[serverTimer(record)].delete(record);
      this.dropServerRecord(record);
    }
    const { key, target, merge } = tx.index;
    if (this.serverTxs.get(key) === tx) this.serverTxs.delete(key);
    if (target !== undefined && this.targets.get(target) === tx) this.targets.delete(target);
    if (merge !== undefined && this.merged.get(merge) === tx) this.merged.delete(merge);
  }

  /** The record takes the transaction's place in every map it was in. */
  private retireServer(tx: ServerTx, record: CompletedServerTx, timer: 'J' | 'I' | 'L'): number {
    if (this.closed) return this.clock.monotonic();
    const { key, target, merge } = tx.index;
    if (this.serverTxs.get(key) === tx) this.serverTxs.set(key, record);
    if (target !== undefined && this.targets.get(target) === tx) this.targets.set(target, record);
    if (merge !== undefined && this.merged.get(merge) === tx) this.merged.set(merge, record);
    return this.serverQueues[timer].add(record);
  }

  private dropServerRecord(record: CompletedServerTx): void {
    const { key, target, merge } = record;
    if (this.serverTxs.get(key) === record) this.serverTxs.delete(key);
    if (target !== undefined && this.targets.get(target) === record) this.targets.delete(target);
    if (merge !== undefined && this.merged.get(merge) === record) this.merged.delete(merge);
  }

  /** §17.2.1, §17.2.2: a request retransmission reaching a completed transaction. */
  private retransmissionToRecord(record: CompletedServerTx): void {
    const final = record.final;
    const to = record.resendTo();
    // Confirmed and Accepted absorb it; non-INVITE Completed sends the final again.
    if (!final || !to) return;
    this.transport.send(final, to.destination, to.options).catch((err: unknown) => {
      // §17.2.4: the transaction ends; its TU finished with it at the final response.
      this.logger.debug({ key: record.key, err: (err as Error).message }, 'final response not sent again; transaction ended');
      this.serverQueues[serverTimer(record)].delete(record);
      this.dropServerRecord(record);
    });
  }

  private evicted(record: CompletedServerTx): void {
    this.dropServerRecord(record);
    this.evictedSinceWarning++;
    const now = this.clock.monotonic();
    if (now - this.lastEvictionWarning < EVICTION_WARNING_MS) return;
    this.logger.warn(
      { evicted: this.evictedSinceWarning, max: this.maxCompletedNonInvite, timerJMs: this.serverQueues.J.lifetimeMs },
      'too many completed non-INVITE transactions: the oldest are forgotten before Timer J (a REGISTER storm or a flood)',
    );
    this.evictedSinceWarning = 0;
    this.lastEvictionWarning = now;
  }

  private forgetClient(tx: ClientTx): void {
    const record = tx.retiredAs;
    if (record) {
      this.clientQueues[record.ack ? 'D' : 'K'].delete(record);
      this.dropClientRecord(record);
    }
    if (this.clientTxs.get(tx.id) === tx) this.clientTxs.delete(tx.id);
  }

  private retireClient(tx: ClientTx, record: CompletedClientTx, timer: 'K' | 'D'): number {
    if (this.closed) return this.clock.monotonic();
    if (this.clientTxs.get(tx.id) === tx) this.clientTxs.set(tx.id, record);
    return this.clientQueues[timer].add(record);
  }

  private dropClientRecord(record: CompletedClientTx): void {
    if (this.clientTxs.get(record.id) === record) this.clientTxs.delete(record.id);
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

/** The timer a server record waits for: J (non-INVITE Completed), I (Confirmed), L (Accepted). */
function serverTimer(record: CompletedServerTx): 'J' | 'I' | 'L' {
  switch (record.state) {
    case 'Completed':
      return 'J';
    case 'Confirmed':
      return 'I';
    case 'Accepted':
      return 'L';
    default: {
      const never: never = record.state;
      throw new Error(`unknown state ${String(never)}`);
    }
  }
}

/** Create the transaction layer on a transport (RFC 3261 §17). */
export function createTransactionLayer(options: TransactionLayerOptions): SipTransactionLayer {
  return new SipTransactionLayer(options);
}
