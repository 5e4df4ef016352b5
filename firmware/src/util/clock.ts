/**
 * Time, injected. Protocol logic never calls setTimeout or Date.now() itself
 * (ARCHITECTURE.md, convention 3): it takes a Clock, so tests drive timers
 * instantly with FakeClock and production uses SystemClock.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch (wall clock). */
  now(): number;
  /** Monotonic milliseconds, for durations. */
  monotonic(): number;
  /** Run fn once after ms milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  monotonic(): number {
    return performance.now();
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, ms);
    // A pending protocol timer must not keep a stopping process alive.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  }
}

interface PendingTimer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. advance(ms) fires every timer that
 * falls due, in order of due time then creation, including timers created by
 * the callbacks themselves while they are due within the window.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }
  monotonic(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer: PendingTimer = { due: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
  /** Timers still waiting to fire. */
  pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((x) => !x.cancelled);
      let next: PendingTimer | undefined;
      for (const x of this.timers) {
        if (x.due <= end && (!next || x.due < next.due || (x.due === next.due && x.seq < next.seq))) next = x;
      }
      if (!next) break;
      this.t = Math.max(this.t, next.due);
      next.cancelled = true;
      next.fn();
    }
    this.t = end;
  }
}
