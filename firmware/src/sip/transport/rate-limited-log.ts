/**
 * Logging of bad input at a limited rate (issue 2, "Bad input"): a peer that
 * floods us with garbage must not flood the log or the disk. Per source key,
 * at most `perWindow` lines per `windowMs`; what is held back is summed up in
 * one line when the window ends. The number of tracked sources is capped so
 * that spoofed source addresses cannot grow the map without limit.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';

export interface RateLimitedLogOptions {
  logger: Logger;
  clock: Clock;
  perWindow?: number;
  windowMs?: number;
  maxSources?: number;
}

interface Window {
  start: number;
  logged: number;
  suppressed: number;
  timer?: TimerHandle;
}

export class RateLimitedLog {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly maxSources: number;
  private readonly windows = new Map<string, Window>();
  /** Lines dropped because too many sources were being tracked at once. */
  private overflow = 0;
  private overflowTimer: TimerHandle | undefined;

  constructor(options: RateLimitedLogOptions) {
    this.logger = options.logger;
    this.clock = options.clock;
    this.perWindow = options.perWindow ?? 5;
    this.windowMs = options.windowMs ?? 10_000;
    this.maxSources = options.maxSources ?? 1000;
  }

  /** Log a warning about `source` unless its budget for this window is spent. */
  warn(source: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.clock.monotonic();
    let w = this.windows.get(source);
    if (w && now - w.start >= this.windowMs && w.suppressed === 0) {
      this.windows.delete(source);
      w = undefined;
    }
    if (!w) {
      if (this.windows.size >= this.maxSources) this.sweep(now);
      if (this.windows.size >= this.maxSources) {
        this.countOverflow();
        return;
      }
      w = { start: now, logged: 0, suppressed: 0 };
      this.windows.set(source, w);
    }
    if (w.logged < this.perWindow) {
      w.logged++;
      this.logger.warn({ source, ...fields }, msg);
      return;
    }
    w.suppressed++;
    if (!w.timer) {
      const win = w;
      win.timer = this.clock.setTimer(Math.max(0, win.start + this.windowMs - now), () => this.flush(source, win));
    }
  }

  /** Forget windows that have ended with nothing held back. */
  private sweep(now: number): void {
    for (const [key, w] of this.windows) {
      if (w.suppressed === 0 && now - w.start >= this.windowMs) this.windows.delete(key);
    }
  }

  private flush(source: string, w: Window): void {
    if (this.windows.get(source) === w) this.windows.delete(source);
    if (w.suppressed > 0) {
      this.logger.warn({ source, suppressed: w.suppressed, windowMs: this.windowMs }, 'further bad input suppressed');
    }
  }

  private countOverflow(): void {
    this.overflow++;
    if (this.overflowTimer) return;
    this.overflowTimer = this.clock.setTimer(this.windowMs, () => {
      this.logger.warn({ suppressed: this.overflow, sources: this.windows.size }, 'bad input from too many sources; suppressed');
      this.overflow = 0;
      this.overflowTimer = undefined;
    });
  }

  /** Drop pending summaries (on shutdown). */
  close(): void {
    for (const w of this.windows.values()) w.timer?.cancel();
    this.windows.clear();
    this.overflowTimer?.cancel();
    this.overflowTimer = undefined;
  }
}
