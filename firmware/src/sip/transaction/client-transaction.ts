/**
 * What INVITE and non-INVITE client transactions share (RFC 3261 §17.1):
 * sending through the transport with failures reported to the TU
 * (§17.1.4: a transport failure terminates the transaction and the TU treats
 * it like a 503, §8.1.3.1), the §18.1.1 fall-back from TCP to UDP,
 * shielding the layer from a TU handler that throws, and retiring: handing
 * the layer a compact record of a completed transaction
 * (completed-transactions.ts) to absorb retransmitted responses until Timer
 * K or D ends. As for server transactions (server-transaction.ts), `state`
 * then reads Terminated from the record's deadline on.
 */
import type { Clock } from '../../util/clock.js';
import { isPgwError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { SipMessage, SipRequest, SipResponse, Via } from '../message/types.js';
import type { Endpoint, SendOptions, TransportLayer } from '../transport/api.js';
import { writeTopVia } from '../transport/via-stamp.js';
import type { ClientTransaction, ClientTransactionHandlers } from './api.js';
import { CompletedClientTx } from './completed-transactions.js';
import { freezeRequest } from './frozen-message.js';
import { StateMachine } from '../../util/state-machine.js';
import type { TransitionTable } from '../../util/state-machine.js';
import { TimerSet } from './timer-set.js';
import { timerValues } from './timers.js';
import type { TimerBase, TimerValues } from './timers.js';

export interface ClientTxEnv {
  clock: Clock;
  logger: Logger;
  transport: TransportLayer;
  timers: TimerBase;
  /** The transaction reached Terminated: forget it. */
  terminated(tx: ClientTx): void;
  /**
   * The transaction completed and waits only for `timer`: the layer keeps
   * `record` in its place until then. Returns the deadline (clock.monotonic()).
   */
  retire(tx: ClientTx, record: CompletedClientTx, timer: 'K' | 'D'): number;
}

export interface ClientTxInit {
  id: string;
  request: SipRequest;
  destination: Endpoint;
  handlers: ClientTransactionHandlers;
  tlsServerName?: string;
  /**
   * Set when the request was moved from UDP to TCP by the §18.1.1 size rule:
   * if TCP cannot connect, the RFC says to retry over UDP, with this Via.
   */
  udpFallback?: { destination: Endpoint; topVia: Via };
}

/** The face the transaction layer uses; ClientTransaction is the face the TU sees. */
export interface ClientTx extends ClientTransaction {
  start(): void;
  receive(response: SipResponse): void;
  /** Stop all timers and forget (layer shutdown). */
  abort(): void;
  /** The record the layer keeps instead of this transaction, once retired. */
  readonly retiredAs: CompletedClientTx | undefined;
}

export abstract class ClientTransactionBase<S extends string> implements ClientTx {
  readonly id: string;
  readonly request: SipRequest;
  destination: Endpoint;
  protected reliable: boolean;
  protected t: TimerValues;
  protected readonly timers: TimerSet;
  protected readonly fsm: StateMachine<S>;
  protected readonly handlers: ClientTransactionHandlers;
  protected readonly log: Logger;
  private readonly tlsServerName: string | undefined;
  private udpFallback: ClientTxInit['udpFallback'];
  /** No message has gone out successfully yet (the §18.1.1 fall-back only applies to the first). */
  private firstSend = true;
  private record: CompletedClientTx | undefined;
  /** Once retired: when the record's timer ends (clock.monotonic()). */
  private retiredUntil: number | undefined;

  constructor(
    protected readonly env: ClientTxEnv,
    init: ClientTxInit,
    kind: string,
    initial: S,
    table: TransitionTable<S>,
  ) {
    this.id = init.id;
    this.request = init.request;
    this.destination = init.destination;
    this.handlers = init.handlers;
    this.tlsServerName = init.tlsServerName;
    this.udpFallback = init.udpFallback;
    this.reliable = init.destination.protocol !== 'udp';
    this.t = timerValues(env.timers, this.reliable);
    this.timers = new TimerSet(env.clock);
    this.log = env.logger;
    this.fsm = new StateMachine<S>(`${kind} ${init.id}`, initial, table, env.logger);
  }

  get state(): S {
    this.settle();
    return this.fsm.state;
  }

  get retiredAs(): CompletedClientTx | undefined {
    return this.record;
  }

  abstract start(): void;
  abstract receive(response: SipResponse): void;
  protected abstract readonly terminatedState: S;
  /** Whether a send failure now is the TU's business (before the final response). */
  protected abstract reportsTransportErrors(): boolean;
  /** The §18.1.1 fall-back turned the transaction unreliable: start retransmitting. */
  protected abstract becameUnreliable(): void;

  abort(): void {
    this.timers.cancelAll();
  }

  protected send(message: SipMessage): void {
    const options = this.sendOptions();
    const first = this.firstSend;
    this.env.transport.send(message, this.destination, options).then(
      () => {
        this.firstSend = false;
      },
      (err: unknown) => this.sendFailed(err instanceof Error ? err : new Error(String(err)), message, first),
    );
  }

  protected terminate(): void {
    if (this.state === this.terminatedState) return;
    this.timers.cancelAll();
    this.retiredUntil = undefined;
    this.fsm.transition(this.terminatedState);
    this.env.terminated(this);
  }

  /**
   * Hand the layer a compact record of this completed transaction, with the
   * ACK to send again for each retransmitted final response when there is one
   * (INVITE, non-2xx). Only ever on an unreliable transport: Timers K and D
   * are 0 on reliable ones.
   */
  protected retire(timer: 'K' | 'D', ack: SipRequest | undefined): void {
    this.timers.cancelAll();
    const resend = ack ? { message: freezeRequest(ack), destination: this.destination, options: this.sendOptions() } : undefined;
    this.record = new CompletedClientTx(this.id, resend);
    this.retiredUntil = this.env.retire(this, this.record, timer);
  }

  /** Call a TU handler; a TU bug must not break the transaction layer. */
  protected tell(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err: (err as Error).message, stack: (err as Error).stack, tx: this.id }, `TU ${what} handler threw`);
    }
  }

  private sendOptions(): SendOptions {
    return this.tlsServerName ? { sizeRule: false, tlsServerName: this.tlsServerName } : { sizeRule: false };
  }

  /** Past the retired record's deadline, the transaction is over. */
  private settle(): void {
    if (this.retiredUntil === undefined || this.env.clock.monotonic() < this.retiredUntil) return;
    this.retiredUntil = undefined;
    if (this.fsm.state !== this.terminatedState) this.fsm.transition(this.terminatedState);
  }

  private sendFailed(err: Error, message: SipMessage, first: boolean): void {
    if (this.state === this.terminatedState) return;
    const fallback = this.udpFallback;
    if (first && fallback && message === this.request && isPgwError(err) && err.context.stage === 'connect') {
      // RFC 3261 §18.1.1: TCP was only chosen for size; it is refused, so UDP after all.
      this.udpFallback = undefined;
      this.log.debug({ tx: this.id, err: err.message }, '§18.1.1: TCP refused, retrying over UDP');
      writeTopVia(this.request, fallback.topVia);
      this.destination = fallback.destination;
      this.reliable = false;
      this.t = timerValues(this.env.timers, false);
      this.send(this.request);
      this.becameUnreliable();
      return;
    }
    this.log.debug({ tx: this.id, err: err.message, state: this.fsm.state }, 'transport error');
    const report = this.reportsTransportErrors();
    this.terminate();
    if (report) this.tell('onTransportError', () => this.handlers.onTransportError(err));
  }
}
