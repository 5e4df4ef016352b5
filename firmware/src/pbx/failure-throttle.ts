/**
 * Throttles what keeps failing authentication (issue 2: "repeated failures
 * from one source are throttled"). SIP scanners (friendly-scanner,
 * sipvicious) hammer REGISTER and INVITE with guessed passwords; once blocked,
 * their requests are dropped without an answer, so a scan costs them time
 * and us nothing.
 *
 * Two counters, because one address is not one phone: home workers and
 * branch sites put several phones behind one NAT address, and a single
 * phone with a wrong password must not lock its neighbours out.
 * - per address and username: `maxFailures` in `windowMs` blocks that
 *   username from that address (the misconfigured phone) for `blockMs`;
 * - per address: `maxSourceFailures` in `windowMs`, whatever the usernames,
 *   blocks the whole address (a scanner rotating usernames).
 * A success clears its own address-and-username count, so a phone whose
 * password is fixed recovers at once. Memory is bounded by `maxSources`.
 */
import type { Clock } from '../util/clock.js';

export interface FailureThrottleOptions {
  clock: Clock;
  /** Failures of one username from one address before it is blocked. Default 10. */
  maxFailures?: number;
  /** Failures from one address, any usernames, before the address is blocked. Default 50. */
  maxSourceFailures?: number;
  windowMs?: number;
  blockMs?: number;
  maxSources?: number;
}

interface KeyState {
  failures: number[];
  blockedUntil: number;
}

/** Failures counted per key in a sliding window, with a block once a limit is reached. */
class FailureCounter {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly clock: Clock,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly blockMs: number,
    private readonly maxKeys: number,
  ) {}

  isBlocked(key: string): boolean {
    const s = this.keys.get(key);
    return s !== undefined && s.blockedUntil > this.clock.now();
  }

  /** Count a failure; true when this one blocked the key. */
  fail(key: string): boolean {
    const now = this.clock.now();
    let s = this.keys.get(key);
    if (!s) {
      if (this.keys.size >= this.maxKeys) {
        // Map iteration order is insertion order: the first key is the oldest tracked.
        const first = this.keys.keys().next();
        if (!first.done) this.keys.delete(first.value);
      }
      s = { failures: [], blockedUntil: 0 };
      this.keys.set(key, s);
    }
    s.failures = s.failures.filter((t) => t > now - this.windowMs);
    s.failures.push(now);
    if (s.failures.length >= this.limit && s.blockedUntil <= now) {
      s.blockedUntil = now + this.blockMs;
      s.failures = [];
      return true;
    }
    return false;
  }

  clear(key: string): void {
    this.keys.delete(key);
  }

  blocked(): string[] {
    const now = this.clock.now();
    return [...this.keys.entries()].filter(([, s]) => s.blockedUntil > now).map(([k]) => k);
  }
}

export class FailureThrottle {
  private readonly pairs: FailureCounter;
  private readonly sources: FailureCounter;

  constructor(options: FailureThrottleOptions) {
    const windowMs = options.windowMs ?? 60_000;
    const blockMs = options.blockMs ?? 300_000;
    const maxKeys = options.maxSources ?? 10_000;
    this.pairs = new FailureCounter(options.clock, options.maxFailures ?? 10, windowMs, blockMs, maxKeys);
    this.sources = new FailureCounter(options.clock, options.maxSourceFailures ?? 50, windowMs, blockMs, maxKeys);
  }

  /** Blocked: the whole address, or this username from this address. */
  isBlocked(source: string, username?: string): boolean {
    return this.sources.isBlocked(source) || (username !== undefined && this.pairs.isBlocked(pairKey(source, username)));
  }

  /** Record a failure; returns true when it blocked the username at this address or the address. */
  fail(source: string, username = ''): boolean {
    const pair = this.pairs.fail(pairKey(source, username));
    const whole = this.sources.fail(source);
    return pair || whole;
  }

  succeed(source: string, username = ''): void {
    this.pairs.clear(pairKey(source, username));
  }

  /** Blocked addresses, and `address username` pairs. */
  blockedSources(): string[] {
    return [...this.sources.blocked(), ...this.pairs.blocked()];
  }
}

function pairKey(source: string, username: string): string {
  return `${source} ${username}`;
}
