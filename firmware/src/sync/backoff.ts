/**
 * Reconnect delays: capped exponential backoff with jitter. mqtt.js only
 * knows a fixed reconnectPeriod, so after a broker outage every box of the
 * fleet would come back in the same second; the delay here doubles per
 * failed attempt up to `maxMs`, and "equal jitter" (half fixed, half random)
 * spreads the boxes while keeping a floor, so no box hammers the broker.
 * See the AWS Architecture Blog, "Exponential Backoff And Jitter" (2015).
 *
 * The attempt count is reset only once a connection has proved stable
 * (MqttConnection's `stableAfterMs`), so a broker that accepts and drops at
 * once is still backed off.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** A number in [0, 1); Math.random by default, a fixed sequence in tests. */
  random?: () => number;
}

export class Backoff {
  private failures = 0;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions) {
    this.minMs = Math.max(1, options.minMs);
    this.maxMs = Math.max(this.minMs, options.maxMs);
    this.random = options.random ?? Math.random;
  }

  /** Attempts that failed since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The ceiling for the next delay: minMs doubled per failure, capped at maxMs. */
  ceiling(): number {
    // 2 ** 31 already exceeds any sane cap; stop doubling before the float loses meaning.
    const exp = Math.min(this.failures, 31);
    return Math.min(this.maxMs, this.minMs * 2 ** exp);
  }

  /** The delay before the next attempt, in [ceiling/2, ceiling], never below minMs; counts one failure. */
  next(): number {
    const cap = this.ceiling();
    this.failures++;
    const half = cap / 2;
    const delay = half + this.random() * half;
    return Math.max(this.minMs, Math.round(delay));
  }

  reset(): void {
    this.failures = 0;
  }
}
