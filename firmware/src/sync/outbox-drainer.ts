/**
 * Sends what is in the outbox, oldest first, while the box is connected.
 *
 * Up to `window` records are in flight at once (never more than the
 * broker's Receive Maximum, MQTT 5 §3.2.2.3.3). MQTT 5 §4.6 keeps QoS 1
 * messages of one client on one topic in order, so a window does not
 * reorder them. A record leaves the outbox only after its PUBACK
 * (Outbox.ack). When the connection closes with records in flight, they
 * are sent again from the oldest unacknowledged one on the next connect;
 * in a run without disconnects no record is published twice.
 *
 * A PUBACK with an error reason code (the broker refusing, e.g. 0x87 not
 * authorised) pauses draining for `retryAfterRefusalMs` and raises an
 * alarm: the record is kept, never skipped.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import { isPgwError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { Outbox, OutboxAlarm, OutboxEntry } from './outbox.js';

export interface OutboxDrainerOptions {
  outbox: Outbox;
  /** Publishes one record; resolves on PUBACK. */
  publish(entry: OutboxEntry): Promise<void>;
  clock: Clock;
  logger: Logger;
  /** Records in flight at most. Default 16. */
  window?: number;
  /** Pause after the broker refused a record. Default 30 s. */
  retryAfterRefusalMs?: number;
  onAlarm?: (alarm: OutboxAlarm) => void;
}

export interface DrainerStats {
  online: boolean;
  inFlight: number;
  published: number;
  retried: number;
  refused: number;
}

export class OutboxDrainer {
  private online = false;
  private receiveMaximum = 65535;
  private cursor = 0;
  private generation = 0;
  private readonly publishing = new Set<number>();
  private readonly acking = new Set<number>();
  private pause: TimerHandle | undefined;
  private refusedAlarm = false;
  private published = 0;
  private retried = 0;
  private refused = 0;
  private readonly window: number;
  private readonly unsubscribe: () => void;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: OutboxDrainerOptions) {
    this.window = Math.max(1, options.window ?? 16);
    this.unsubscribe = options.outbox.onAdded(() => this.pump());
  }

  /** Connected: start (again) from the oldest record not acknowledged. */
  setOnline(receiveMaximum = 65535): void {
    this.online = true;
    this.receiveMaximum = Math.max(1, receiveMaximum);
    this.generation++;
    this.publishing.clear();
    this.cursor = 0;
    this.pump();
  }

  setOffline(): void {
    this.online = false;
    this.generation++;
    this.publishing.clear();
  }

  stop(): void {
    this.setOffline();
    this.pause?.cancel();
    this.unsubscribe();
  }

  stats(): DrainerStats {
    return {
      online: this.online,
      inFlight: this.publishing.size,
      published: this.published,
      retried: this.retried,
      refused: this.refused,
    };
  }

  /** Resolves when the outbox is empty and nothing is in flight (tests, benchmarks, stop). */
  whenDrained(): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isDrained(): boolean {
    return this.options.outbox.size === 0 && this.publishing.size === 0 && this.acking.size === 0;
  }

  private pump(): void {
    if (!this.online || this.pause) return;
    const limit = Math.min(this.window, this.receiveMaximum);
    while (this.publishing.size < limit) {
      const next = this.nextAfter(this.cursor);
      if (!next) break;
      this.cursor = next.seq;
      this.send(next);
    }
    this.checkIdle();
  }

  private send(entry: OutboxEntry): void {
    const gen = this.generation;
    this.publishing.add(entry.seq);
    this.options.publish(entry).then(
      () => {
        if (gen === this.generation) this.publishing.delete(entry.seq);
        this.published++;
        if (this.refusedAlarm) this.clearRefusal();
        this.acking.add(entry.seq);
        this.options.outbox
          .ack(entry.seq)
          .catch((e: unknown) => this.options.logger.warn({ err: (e as Error).message }, 'outbox ack failed'))
          .finally(() => {
            this.acking.delete(entry.seq);
            this.pump();
          });
      },
      (err: unknown) => {
        if (gen !== this.generation) return; // that connection is gone; setOnline starts over
        this.publishing.delete(entry.seq);
        this.retried++;
        // Send it again before anything newer.
        this.cursor = Math.min(this.cursor, entry.seq - 1);
        if (isPgwError(err, 'PGW_E_SYNC_OFFLINE')) return; // the connection tells us when it is back
        this.refusal(entry, err as Error);
      },
    );
  }

  private refusal(entry: OutboxEntry, err: Error): void {
    this.refused++;
    const ms = this.options.retryAfterRefusalMs ?? 30_000;
    this.options.logger.error({ err: err.message, id: entry.id, retryInMs: ms }, 'the broker refused a call record; will retry');
    if (!this.refusedAlarm) {
      this.refusedAlarm = true;
      this.options.onAlarm?.({
        type: 'alarm',
        alarm: 'cdr-refused-by-broker',
        state: 'raised',
        severity: 'critical',
        message: `the broker refused call record ${entry.id}: ${err.message}; records are kept and retried`,
        at: new Date(this.options.clock.now()).toISOString(),
      });
    }
    this.pause?.cancel();
    this.pause = this.options.clock.setTimer(ms, () => {
      this.pause = undefined;
      this.pump();
    });
  }

  private clearRefusal(): void {
    this.refusedAlarm = false;
    this.options.onAlarm?.({
      type: 'alarm',
      alarm: 'cdr-refused-by-broker',
      state: 'cleared',
      severity: 'critical',
      message: 'the broker accepts call records again',
      at: new Date(this.options.clock.now()).toISOString(),
    });
  }

  /** The first record after `seq` that is neither in flight nor being removed (binary search: the outbox is in seq order). */
  private nextAfter(seq: number): OutboxEntry | undefined {
    const list = this.options.outbox.entries();
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) {
      const e = list[i]!;
      if (!this.publishing.has(e.seq) && !this.acking.has(e.seq)) return e;
    }
    return undefined;
  }

  private checkIdle(): void {
    if (!this.isDrained()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
