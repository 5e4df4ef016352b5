/**
 * Wall-clock time the agent may act on, for maintenance windows and
 * `defer-until` only (bundle verification never reads a clock).
 *
 * A box whose RTC battery is flat boots in the past (1970, or 2000 on many
 * RTCs) until NTP answers, and NTP may be blocked on a surgery network.
 * Mender and RAUC simply trust the system clock then; a window computed
 * from a clock in 1970 would be wrong. Here:
 * - the system clock is trusted when it is not before a floor (the running
 *   firmware's build time: a real clock cannot be earlier);
 * - otherwise the `Date` header of the update server's last HTTP answer
 *   (RFC 9110 §6.6.1), carried forward on the monotonic clock, stands in;
 * - with neither, the time is unknown and the agent waits (and says so in
 *   ota/reported) rather than guess. Policy `now` needs no clock at all.
 */
import type { Clock } from '../../firmware/src/util/clock.js';

/** 2024-01-01T00:00:00Z: older than any firmware this project ships. */
export const DEFAULT_CLOCK_FLOOR_MS = Date.UTC(2024, 0, 1);

export interface TimeReading {
  ms: number;
  source: 'clock' | 'server';
}

export class TrustedTime {
  private observed: { serverMs: number; mono: number } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly floorMs: number = DEFAULT_CLOCK_FLOOR_MS,
  ) {}

  /** Records an HTTP `Date` header value. */
  observeHttpDate(header: string | undefined): void {
    if (!header) return;
    const ms = Date.parse(header);
    if (!Number.isFinite(ms) || ms < this.floorMs) return;
    this.observed = { serverMs: ms, mono: this.clock.monotonic() };
  }

  clockTrusted(): boolean {
    return this.clock.now() >= this.floorMs;
  }

  /** The time to act on, or undefined when nothing trustworthy is known. */
  now(): TimeReading | undefined {
    const wall = this.clock.now();
    if (wall >= this.floorMs) return { ms: wall, source: 'clock' };
    if (this.observed) return { ms: this.observed.serverMs + (this.clock.monotonic() - this.observed.mono), source: 'server' };
    return undefined;
  }
}
