/**
 * OPTIONS probes (RFC 3261 §11) of one uplink peer, on the injected clock:
 * one probe every `intervalMs`, the first at start(); a probe with no final
 * response within `timeoutMs` is lost.
 *
 * What counts as an answer: any final response, because any response proves
 * the peer's SIP stack is there (a 404 or 405 to OPTIONS is still a live
 * SBC) — except 408 and 503, which our UA core also uses as stand-ins for
 * "timed out" and "could not send", and which a real peer sends when it
 * cannot serve us (RFC 3261 §21.5.4), and 504 (a server behind it timed out).
 *
 * A probe that times out is not cancelled: its transaction keeps
 * retransmitting until Timer F (§17.1.2.2), and a late answer is ignored —
 * the next probes tell whether the peer is back.
 *
 * Overdue probes: an uplink peer on a healthy path answers in milliseconds,
 * so a probe still unanswered after `overdueMs` (a quarter of the interval
 * by default) is followed by the next one at once instead of at the next
 * tick, while `hurry()` says so (the uplink is not already down). Each probe
 * is still lost only after its full timeout and the uplink still needs
 * failAfter losses in a row, but the losses come a quarter interval apart
 * instead of a whole one: with the defaults (1000 ms, failAfter 2) a silent
 * cut is detected within 1.25–2.25 s instead of 2–3 s, and a dead uplink is
 * then probed at the normal pace again.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

/** Sends one probe and resolves with the final status (408/503 stand-ins included). */
export type ProbeSend = () => Promise<number>;

export interface ProbeOutcome {
  ok: boolean;
  /** The final status, or `timeout` when none came in time. */
  status: number | 'timeout';
  /** Round trip in ms, when answered. */
  rttMs?: number;
}

export interface OptionsProberOptions {
  clock: Clock;
  intervalMs: number;
  timeoutMs: number;
  send: ProbeSend;
  onOutcome: (outcome: ProbeOutcome) => void;
  /** Follow an unanswered probe with the next after this long (default intervalMs / 4; 0: never). */
  overdueMs?: number;
  /** Whether to hurry now (default always). */
  hurry?: () => boolean;
}

const DEAD_STATUSES = new Set([408, 503, 504]);

export function isProbeAnswer(status: number): boolean {
  return status >= 200 && !DEAD_STATUSES.has(status);
}

export class OptionsProber {
  private timer: TimerHandle | undefined;
  private running = false;
  private readonly inFlight = new Set<TimerHandle>();
  private sent = 0;

  constructor(private readonly o: OptionsProberOptions) {}

  get probesSent(): number {
    return this.sent;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    for (const t of this.inFlight) t.cancel();
    this.inFlight.clear();
  }

  /** Probe now (e.g. the interface just came back) and restart the interval from here. */
  probeNow(): void {
    if (!this.running) return;
    this.timer?.cancel();
    this.tick();
  }

  private tick(): void {
    this.timer = this.o.clock.setTimer(this.o.intervalMs, () => this.tick());
    this.probeOnce();
  }

  private probeOnce(): void {
    const started = this.o.clock.monotonic();
    let settled = false;
    this.sent++;
    const deadline = this.o.clock.setTimer(this.o.timeoutMs, () => {
      this.inFlight.delete(deadline);
      if (settled || !this.running) return;
      settled = true;
      this.o.onOutcome({ ok: false, status: 'timeout' });
    });
    this.inFlight.add(deadline);
    const overdueMs = this.o.overdueMs ?? Math.floor(this.o.intervalMs / 4);
    let overdue: TimerHandle | undefined;
    if (overdueMs > 0 && overdueMs < this.o.intervalMs) {
      const timer = this.o.clock.setTimer(overdueMs, () => {
        this.inFlight.delete(timer);
        if (!settled && this.running && (this.o.hurry?.() ?? true)) this.probeNow();
      });
      overdue = timer;
      this.inFlight.add(timer);
    }
    const settle = (status: number): void => {
      if (settled || !this.running) return;
      settled = true;
      deadline.cancel();
      this.inFlight.delete(deadline);
      if (overdue) {
        overdue.cancel();
        this.inFlight.delete(overdue);
      }
      const ok = isProbeAnswer(status);
      this.o.onOutcome(ok ? { ok, status, rttMs: this.o.clock.monotonic() - started } : { ok, status });
    };
    this.o.send().then(settle, () => settle(503));
  }
}
