/**
 * Reliable provisional responses (RFC 3262), both sides.
 *
 * UAS (ReliableProvisionalSender): each reliable 1xx gets `Require: 100rel`
 * and an RSeq one higher than the last (§3; the first is random in
 * 1..2^31-1). It is retransmitted with T1 doubling until its PRACK, and given
 * up after 64*T1 (the caller then rejects the INVITE with a 5xx). Only one may
 * be unacknowledged at a time (§3), so later ones wait in a queue; a 2xx waits
 * until the queue is empty (held by the session).
 *
 * UAC (ReliableProvisionalReceiver): PRACK each reliable 1xx once, in RSeq
 * order; retransmissions (RSeq not above the last) and gaps are ignored (§4).
 */
import type { Clock } from '../../util/clock.js';
import type { SipResponse } from '../message/types.js';
import { Retransmitter } from './retransmitter.js';

export interface RAck {
  rseq: number;
  cseq: number;
  method: string;
}

export function parseRAck(value: string | undefined): RAck | undefined {
  if (value === undefined) return undefined;
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 3) return undefined;
  const rseq = Number(parts[0]);
  const cseq = Number(parts[1]);
  if (!Number.isInteger(rseq) || !Number.isInteger(cseq) || rseq < 0 || cseq < 0) return undefined;
  return { rseq, cseq, method: parts[2]! };
}

export function parseRSeq(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.trim());
  return Number.isInteger(n) && n >= 0 && n < 2 ** 32 ? n : undefined;
}

interface Outstanding {
  response: SipResponse;
  rseq: number;
  retransmitter: Retransmitter;
}

export interface ReliableProvisionalSenderOptions {
  clock: Clock;
  t1: number;
  /** The INVITE's CSeq number and method, for RAck matching. */
  inviteCSeq: number;
  random: () => number;
  /** Put a response on the wire (through the INVITE server transaction). */
  send: (response: SipResponse) => void;
  /** 64*T1 passed without a PRACK. */
  onTimeout: () => void;
}

export class ReliableProvisionalSender {
  private nextRSeq: number;
  private outstanding: Outstanding | undefined;
  private readonly queue: SipResponse[] = [];
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly o: ReliableProvisionalSenderOptions) {
    // §3: "the initial value ... MUST be chosen randomly ... between 1 and 2**31 - 1".
    this.nextRSeq = 1 + Math.floor(o.random() * (2 ** 31 - 2));
  }

  /** No reliable provisional is waiting for its PRACK, and none is queued. */
  get idle(): boolean {
    return this.outstanding === undefined && this.queue.length === 0;
  }

  get pendingRSeq(): number | undefined {
    return this.outstanding?.rseq;
  }

  /** Send (or queue) a reliable provisional; Require and RSeq are added here. */
  send(response: SipResponse): void {
    if (this.outstanding) {
      this.queue.push(response);
      return;
    }
    this.transmit(response);
  }

  /**
   * A PRACK arrived. Returns the acknowledged response, or undefined when the
   * RAck matches nothing unacknowledged (the caller answers 481, §3).
   */
  prack(rack: RAck): SipResponse | undefined {
    const o = this.outstanding;
    if (!o || rack.rseq !== o.rseq || rack.cseq !== this.o.inviteCSeq || rack.method !== 'INVITE') return undefined;
    o.retransmitter.stop();
    this.outstanding = undefined;
    const next = this.queue.shift();
    if (next) this.transmit(next);
    else this.notifyIdle();
    return o.response;
  }

  /** Resolve when idle (to release a held 2xx). */
  whenIdle(fn: () => void): void {
    if (this.idle) fn();
    else this.idleWaiters.push(fn);
  }

  /** Stop everything (final response sent, session ended). Waiters are dropped. */
  stop(): void {
    this.outstanding?.retransmitter.stop();
    this.outstanding = undefined;
    this.queue.length = 0;
    this.idleWaiters = [];
  }

  private transmit(response: SipResponse): void {
    const rseq = this.nextRSeq++;
    const h = response.headers.clone();
    const require = h.get('Require');
    if (!require || !/\b100rel\b/i.test(require)) h.append('Require', '100rel');
    h.set('RSeq', String(rseq));
    const r: SipResponse = { ...response, headers: h };
    const retransmitter = new Retransmitter({
      clock: this.o.clock,
      t1: this.o.t1,
      giveUpAfter: 64 * this.o.t1,
      send: () => this.o.send(r),
      onGiveUp: () => {
        this.stop();
        this.o.onTimeout();
      },
    });
    this.outstanding = { response: r, rseq, retransmitter };
    this.o.send(r);
    retransmitter.start();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** The UAC's RSeq bookkeeping for one INVITE (RFC 3262 §4). */
export class ReliableProvisionalReceiver {
  private last: number | undefined;

  /** 'new' to PRACK it, 'retransmission' or 'out-of-order' to ignore it. */
  classify(rseq: number): 'new' | 'retransmission' | 'out-of-order' {
    if (this.last === undefined) return 'new';
    if (rseq <= this.last) return 'retransmission';
    if (rseq !== this.last + 1) return 'out-of-order';
    return 'new';
  }

  accept(rseq: number): void {
    this.last = rseq;
  }
}
