/**
 * Items that each end a fixed time after they were added, on the injected
 * clock with one timer for the whole queue instead of one per item.
 *
 * Completed transactions wait for Timer J, I, L, K or D (RFC 3261 §17, RFC
 * 6026 §8) only to absorb retransmissions; under a REGISTER storm there are
 * tens of thousands at once, and one clock timer each (a Node Timeout, its
 * closure, the transaction's TimerSet) was a good part of what they kept.
 * Every item of a queue lives for the same time and the monotonic clock never
 * goes back, so insertion order is deadline order: the Map below (which
 * iterates in insertion order) is the queue, and the timer only ever needs to
 * be armed for its head. An item ends exactly at its deadline on FakeClock.
 *
 * An optional bound evicts the oldest item when a new one would exceed it.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';

export interface ExpiryQueueOptions<T> {
  clock: Clock;
  /** How long every item lives, ms (> 0). */
  lifetimeMs: number;
  /** Called when an item's time is up (it has already left the queue). */
  onExpire(item: T): void;
  /** At most this many items; adding one more evicts the oldest. Default: no bound. */
  max?: number;
  /** Called for an item evicted by the bound (it has already left the queue). */
  onEvict?(item: T): void;
}

export class ExpiryQueue<T extends object> {
  /** item → deadline (monotonic ms), oldest first. */
  private readonly deadlines = new Map<T, number>();
  private timer: TimerHandle | undefined;
  private readonly max: number;

  constructor(private readonly options: ExpiryQueueOptions<T>) {
    this.max = options.max ?? Infinity;
  }

  get size(): number {
    return this.deadlines.size;
  }

  get lifetimeMs(): number {
    return this.options.lifetimeMs;
  }

  /** Add an item; returns its deadline on the clock's monotonic scale. */
  add(item: T): number {
    const deadline = this.options.clock.monotonic() + this.options.lifetimeMs;
    this.deadlines.delete(item);
    this.deadlines.set(item, deadline);
    while (this.deadlines.size > this.max) {
      const oldest = this.deadlines.keys().next().value as T;
      this.deadlines.delete(oldest);
      this.options.onEvict?.(oldest);
    }
    if (!this.timer) this.arm();
    return deadline;
  }

  /** Remove an item before its time (nothing is called). */
  delete(item: T): void {
    this.deadlines.delete(item);
    // A timer armed for an item that left fires, finds nothing due and re-arms.
    if (this.deadlines.size === 0) this.disarm();
  }

  has(item: T): boolean {
    return this.deadlines.has(item);
  }

  /** Drop everything without calling anyone (layer shutdown). */
  clear(): void {
    this.deadlines.clear();
    this.disarm();
  }

  private arm(): void {
    const head = this.deadlines.values().next();
    if (head.done) return;
    const clock = this.options.clock;
    this.timer = clock.setTimer(Math.max(0, head.value - clock.monotonic()), () => this.fire());
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.options.clock.monotonic();
    for (const [item, deadline] of this.deadlines) {
      // A timer may fire a fraction of a millisecond before the monotonic
      // clock says the head is due (Node's timers count whole ms): re-arm.
      if (deadline > now) break;
      this.deadlines.delete(item);
      this.options.onExpire(item);
    }
    if (!this.timer) this.arm();
  }
}
