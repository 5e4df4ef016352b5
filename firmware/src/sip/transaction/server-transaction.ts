/**
 * What INVITE and non-INVITE server transactions share (RFC 3261 §17.2):
 * where responses go (§18.2.2 with rport, computed once from the request's
 * stamped top Via), sending with transport failures reported to the TU
 * (§17.2.4), the To tag of what was last sent (for the 487 and the
 * CANCEL's 200, §9.2, and for RFC 2543 ACK matching, §17.2.3), and retiring:
 * handing the layer a compact record of a completed transaction
 * (completed-transactions.ts) to absorb retransmissions until its timer ends.
 *
 * After retiring, the layer holds only the record; this object lives on only
 * as long as the TU holds it. What the TU sees stays true: `state` reads
 * Terminated from the record's deadline on (the transition is made when it is
 * next read), and respond() is refused as before.
 */
import type { Clock } from '../../util/clock.js';
import { PgwError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { nameAddrTag } from '../message/index.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { InboundMessage, TransportLayer } from '../transport/api.js';
import { responseRoute } from '../transport/response-route.js';
import type { ResponseRoute } from '../transport/response-route.js';
import { readTopVia } from '../transport/via-stamp.js';
import type { ServerTransaction } from './api.js';
import { CompletedServerTx } from './completed-transactions.js';
import type { CompletedServerState } from './completed-transactions.js';
import { detach, freezeResponse } from './frozen-message.js';
import { StateMachine } from '../../util/state-machine.js';
import type { TransitionTable } from '../../util/state-machine.js';
import { TimerSet } from './timer-set.js';
import { timerValues } from './timers.js';
import type { TimerBase, TimerValues } from './timers.js';

export interface ServerTxEnv {
  clock: Clock;
  logger: Logger;
  transport: TransportLayer;
  timers: TimerBase;
  /** The transaction reached Terminated: forget it. */
  terminated(tx: ServerTx): void;
  /** A response could not be sent (§17.2.4): the TU hears of it. */
  transportError(tx: ServerTx, error: Error): void;
  /** Timer H fired: no ACK came for a non-2xx final response. */
  ackTimeout(tx: ServerTx): void;
  /** RFC 6026 §7.1: an ACK matching an INVITE server transaction in Accepted goes to the TU. */
  passAck(ack: SipRequest, inbound: InboundMessage): void;
  /**
   * The transaction completed and waits only for `timer`: the layer keeps
   * `record` in its place until then. Returns the deadline (clock.monotonic()).
   */
  retire(tx: ServerTx, record: CompletedServerTx, timer: 'J' | 'I' | 'L'): number;
}

/** The face the transaction layer uses; ServerTransaction is the face the TU sees. */
export interface ServerTx extends ServerTransaction {
  readonly method: string;
  /** A retransmission of the request arrived (§17.2.1, §17.2.2). */
  retransmission(): void;
  /** An ACK matched this transaction (INVITE only). */
  ack(request: SipRequest, inbound: InboundMessage): void;
  /** A CANCEL matched: flag it (the layer does the rest, §9.2). */
  markCancelled(): void;
  /** A final response has been sent. */
  readonly finalSent: boolean;
  /** The To tag of the last response sent, if it had one. */
  readonly toTag: string | undefined;
  /** Where the layer indexed this transaction (server key, CANCEL/ACK target, merge key). */
  index: { key: string; target?: string; merge?: string };
  /** The record the layer keeps instead of this transaction, once retired. */
  readonly retiredAs: CompletedServerTx | undefined;
  abort(): void;
}

export interface ServerTxInit {
  id: string;
  request: SipRequest;
  inbound: InboundMessage;
}

export abstract class ServerTransactionBase<S extends string> implements ServerTx {
  readonly id: string;
  readonly request: SipRequest;
  readonly inbound: InboundMessage;
  readonly method: string;
  index: { key: string; target?: string; merge?: string };
  protected readonly reliable: boolean;
  protected readonly t: TimerValues;
  protected readonly timers: TimerSet;
  protected readonly fsm: StateMachine<S>;
  protected readonly log: Logger;
  protected lastProvisional: SipResponse | undefined;
  protected lastFinal: SipResponse | undefined;
  private readonly route: ResponseRoute | undefined;
  private cancelFlag = false;
  private finalFlag = false;
  private tag: string | undefined;
  private record: CompletedServerTx | undefined;
  /** Once retired: when the record's timer ends (clock.monotonic()). */
  private retiredUntil: number | undefined;

  constructor(
    protected readonly env: ServerTxEnv,
    init: ServerTxInit,
    kind: string,
    initial: S,
    table: TransitionTable<S>,
  ) {
    this.id = init.id;
    this.request = init.request;
    this.inbound = init.inbound;
    this.method = init.request.method;
    this.index = { key: init.id };
    this.reliable = init.inbound.source.protocol !== 'udp';
    this.t = timerValues(env.timers, this.reliable);
    this.timers = new TimerSet(env.clock);
    this.log = env.logger;
    this.fsm = new StateMachine<S>(`${kind} ${init.id}`, initial, table, env.logger);
    const via = readTopVia(init.request);
    this.route = via ? responseRoute(via, init.inbound) : undefined;
  }

  get state(): S {
    this.settle();
    return this.fsm.state;
  }

  get cancelled(): boolean {
    return this.cancelFlag;
  }

  get finalSent(): boolean {
    return this.finalFlag;
  }

  get retiredAs(): CompletedServerTx | undefined {
    return this.record;
  }

  get toTag(): string | undefined {
    return this.tag;
  }

  markCancelled(): void {
    this.cancelFlag = true;
  }

  abstract respond(response: SipResponse): void;
  abstract retransmission(): void;
  abstract ack(request: SipRequest, inbound: InboundMessage): void;
  protected abstract readonly terminatedState: S;

  abort(): void {
    this.timers.cancelAll();
  }

  /** Subclasses call this for every final response they send. */
  protected sendFinal(response: SipResponse): void {
    this.finalFlag = true;
    this.send(response);
  }

  protected send(response: SipResponse): void {
    const tag = nameAddrTag(response.headers.get('To') ?? '');
    if (tag !== undefined) this.tag = tag;
    const route = this.route;
    if (!route) {
      this.failed(new PgwError('PGW_E_SIP_TRANSPORT', 'request has no usable Via to route a response'));
      return;
    }
    this.env.transport.send(response, route.destination, route.options).catch((err: unknown) => {
      this.failed(err instanceof Error ? err : new Error(String(err)));
    });
  }

  protected terminate(): void {
    if (this.state === this.terminatedState) return;
    this.timers.cancelAll();
    this.retiredUntil = undefined;
    this.fsm.transition(this.terminatedState);
    this.env.terminated(this);
  }

  /**
   * Hand the layer a compact record of this completed transaction (see the
   * header), with the final response to resend when `resendFinal` (non-INVITE
   * on UDP). What the record does not need is let go here.
   */
  protected retire(timer: 'J' | 'I' | 'L', state: CompletedServerState, resendFinal: SipResponse | undefined): void {
    this.timers.cancelAll();
    const route = this.route;
    const { key, target, merge } = this.index;
    this.record = new CompletedServerTx({
      key,
      target,
      merge,
      method: this.method === 'INVITE' ? 'INVITE' : 'other',
      state,
      toTag: this.tag === undefined ? undefined : detach(this.tag),
      // Only ever asked for on UDP (Timer J is 0 on reliable transports).
      ...(resendFinal && route && route.destination.protocol === 'udp'
        ? {
            final: {
              message: freezeResponse(resendFinal),
              to: { address: detach(route.destination.address), port: route.destination.port, local: route.options.local },
            },
          }
        : {}),
    });
    this.lastProvisional = undefined;
    this.lastFinal = undefined;
    this.retiredUntil = this.env.retire(this, this.record, timer);
  }

  protected illegal(response: SipResponse): never {
    throw new PgwError('PGW_E_SIP_STATE', `cannot send ${response.status} in ${this.kindName()} state ${this.fsm.state}`, {
      context: { tx: this.id, status: response.status, state: this.fsm.state },
    });
  }

  private kindName(): string {
    return this.method === 'INVITE' ? 'INVITE server transaction' : 'non-INVITE server transaction';
  }

  /** Past the retired record's deadline, the transaction is over (see the header). */
  private settle(): void {
    if (this.retiredUntil === undefined || this.env.clock.monotonic() < this.retiredUntil) return;
    this.retiredUntil = undefined;
    if (this.fsm.state !== this.terminatedState) this.fsm.transition(this.terminatedState);
  }

  private failed(err: Error): void {
    if (this.state === this.terminatedState) return;
    this.log.debug({ tx: this.id, err: err.message, state: this.fsm.state }, 'transport error sending a response');
    this.terminate();
    this.env.transportError(this, err);
  }
}
