/**
 * Publishes ota/reported: the latest payload wins. At most one publish is
 * in flight; anything set meanwhile is coalesced into the next one.
 * Progress updates are rate-limited (`minIntervalMs`); state changes go out
 * at once. When offline, the latest payload waits and is sent on the next
 * (re)connect, so the cloud always ends up with the truth, not a backlog.
 */
import type { Clock, TimerHandle } from '../../firmware/src/util/clock.js';
import type { Logger } from '../../firmware/src/util/logger.js';
import type { OtaReported } from '../protocol/reported.js';
import type { OtaLink } from './ports.js';

export class Reporter {
  private latest: OtaReported | undefined;
  private sentJson: string | undefined;
  private inflight: Promise<void> | undefined;
  private dirty = false;
  private lastSentAt = -Infinity;
  private timer: TimerHandle | undefined;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly link: OtaLink,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly minIntervalMs: number,
  ) {}

  get current(): OtaReported | undefined {
    return this.latest;
  }

  /** Sets the payload; `force` sends it now, else within the rate limit. */
  set(payload: OtaReported, force: boolean): void {
    this.latest = payload;
    const wait = this.lastSentAt + this.minIntervalMs - this.clock.monotonic();
    if (force || wait <= 0) {
      this.timer?.cancel();
      this.timer = undefined;
      this.kick();
    } else if (!this.timer) {
      this.timer = this.clock.setTimer(wait, () => {
        this.timer = undefined;
        this.kick();
      });
    }
  }

  /** Sends the latest payload again (after a reconnect). */
  republish(): void {
    this.sentJson = undefined;
    this.kick();
  }

  /** Resolves once the latest payload has been acknowledged, or after `timeoutMs`. */
  flush(timeoutMs: number): Promise<void> {
    if (this.latest === undefined || JSON.stringify(this.latest) === this.sentJson) return Promise.resolve();
    return new Promise((resolve) => {
      const t = this.clock.setTimer(timeoutMs, done);
      function done(): void {
        t.cancel();
        resolve();
      }
      this.waiters.push(done);
      this.kick();
    });
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private kick(): void {
    if (this.inflight) {
      this.dirty = true;
      return;
    }
    const payload = this.latest;
    if (!payload) return;
    const json = JSON.stringify(payload);
    if (json === this.sentJson) return;
    this.lastSentAt = this.clock.monotonic();
    this.inflight = this.link.publishReported(json).then(
      () => {
        this.sentJson = json;
        if (JSON.stringify(this.latest) === json) {
          const w = this.waiters;
          this.waiters = [];
          for (const f of w) f();
        }
      },
      (e: unknown) => {
        // Offline: the next onConnected() republishes the latest.
        this.log.debug({ err: (e as Error).message }, 'ota/reported not published');
      },
    );
    void this.inflight.finally(() => {
      this.inflight = undefined;
      if (this.dirty) {
        this.dirty = false;
        this.kick();
      }
    });
  }
}
