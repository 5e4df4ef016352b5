/**
 * A transaction's timers by RFC name, on the injected clock (ARCHITECTURE.md,
 * convention 3). Setting a name that is already running restarts it.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';

export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'TRYING';

export class TimerSet {
  private readonly running = new Map<TimerName, TimerHandle>();

  constructor(private readonly clock: Clock) {}

  set(name: TimerName, ms: number, fn: () => void): void {
    this.running.get(name)?.cancel();
    const handle = this.clock.setTimer(ms, () => {
      if (this.running.get(name) === handle) this.running.delete(name);
      fn();
    });
    this.running.set(name, handle);
  }

  cancel(...names: TimerName[]): void {
    for (const n of names) {
      this.running.get(n)?.cancel();
      this.running.delete(n);
    }
  }

  isRunning(name: TimerName): boolean {
    return this.running.has(name);
  }

  cancelAll(): void {
    for (const h of this.running.values()) h.cancel();
    this.running.clear();
  }
}
