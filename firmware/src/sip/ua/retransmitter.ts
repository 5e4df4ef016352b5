/**
 * Periodic retransmission by the UA core, on the injected clock:
 *
 * - 2xx to INVITE until the ACK (RFC 3261 §13.3.1.4): first after T1, the
 *   interval doubling up to T2; after 64*T1 give up (the session ends with BYE).
 * - Reliable provisional responses until the PRACK (RFC 3262 §3): first after
 *   T1, doubling with no cap; after 64*T1 give up (the INVITE gets a 5xx).
 */
import type { Clock, TimerHandle } from '../../util/clock.js';

export interface RetransmitterOptions {
  clock: Clock;
  t1: number;
  /** Interval cap; undefined means keep doubling. */
  cap?: number;
  /** Total time before giving up, from start(). */
  giveUpAfter: number;
  send: () => void;
  onGiveUp: () => void;
}

export class Retransmitter {
  private timer: TimerHandle | undefined;
  private giveUp: TimerHandle | undefined;
  private interval: number;
  private count = 0;

  constructor(private readonly o: RetransmitterOptions) {
    this.interval = o.t1;
  }

  /** Start the schedule (the first transmission is the caller's). */
  start(): void {
    this.stop();
    this.interval = this.o.t1;
    this.count = 0;
    this.schedule();
    this.giveUp = this.o.clock.setTimer(this.o.giveUpAfter, () => {
      this.stop();
      this.o.onGiveUp();
    });
  }

  /** Retransmissions made so far. */
  get retransmissions(): number {
    return this.count;
  }

  get running(): boolean {
    return this.giveUp !== undefined;
  }

  stop(): void {
    this.timer?.cancel();
    this.giveUp?.cancel();
    this.timer = undefined;
    this.giveUp = undefined;
  }

  private schedule(): void {
    this.timer = this.o.clock.setTimer(this.interval, () => {
      this.count++;
      this.o.send();
      this.interval = this.o.cap === undefined ? this.interval * 2 : Math.min(this.interval * 2, this.o.cap);
      this.schedule();
    });
  }
}
