/**
 * Throttles sources that keep failing authentication (issue 2: "repeated
 * failures from one source are throttled"). SIP scanners (friendly-scanner,
 * sipvicious) hammer REGISTER with guessed passwords; after `maxFailures` in
 * `windowMs` a source is blocked for `blockMs`, during which its requests are
 * dropped without an answer, so the scan costs it time and us nothing.
 * A success clears the source's count (a phone with a fixed password recovers
 * at once). Memory is bounded: at most `maxSources` are tracked.
 */
import type { Clock } from '../util/clock.js';

export interface FailureThrottleOptions {
  clock: Clock;
  maxFailures?: number;
  windowMs?: number;
  blockMs?: number;
  maxSources?: number;
}

interface SourceState {
  failures: number[];
  blockedUntil: number;
}

export class FailureThrottle {
  private readonly sources = new Map<string, SourceState>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly blockMs: number;
  private readonly maxSources: number;

  constructor(private readonly options: FailureThrottleOptions) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.blockMs = options.blockMs ?? 300_000;
    this.maxSources = options.maxSources ?? 10_000;
  }

  isBlocked(source: string): boolean {
    const s = this.sources.get(source);
    return s !== undefined && s.blockedUntil > this.options.clock.now();
  }

  /** Record a failure; returns true when this failure blocked the source. */
  fail(source: string): boolean {
    const now = this.options.clock.now();
    let s = this.sources.get(source);
    if (!s) {
      if (this.sources.size >= this.maxSources) this.evictOldest();
      s = { failures: [], blockedUntil: 0 };
      this.sources.set(source, s);
    }
    s.failures = s.failures.filter((t) => t > now - this.windowMs);
    s.failures.push(now);
    if (s.failures.length >= this.maxFailures && s.blockedUntil <= now) {
      s.blockedUntil = now + this.blockMs;
      s.failures = [];
      return true;
    }
    return false;
  }

  succeed(source: string): void {
    this.sources.delete(source);
  }

  blockedSources(): string[] {
    const now = this.options.clock.now();
    return [...this.sources.entries()].filter(([, s]) => s.blockedUntil > now).map(([k]) => k);
  }

  private evictOldest(): void {
    // Map iteration order is insertion order: the first key is the oldest tracked source.
    const first = this.sources.keys().next();
    if (!first.done) this.sources.delete(first.value);
  }
}
