/**
 * Pets the watchdog only while the gateway's own health holds (issue 5).
 * If the event loop hangs nothing pets and the watchdog fires; if the loop
 * runs but the gateway is sick (the injected health check fails, throws or
 * does not answer within healthTimeoutMs), petting is withheld on purpose so
 * the watchdog restarts it. During start-up the gateway is not healthy yet
 * (SIP not listening, config not applied): petting goes on regardless for
 * startupGraceMs, or until it has been healthy once.
 *
 *    idle ── start() ──▶ petting ── health fails ──▶ withholding
 *                          ▲                            │
 *                          └─────── health holds ───────┘
 *    petting / withholding ── stop() ──▶ stopped
 */
import type { Clock, TimerHandle } from '../../firmware/src/util/clock.js';
import { PgwError } from '../../firmware/src/util/errors.js';
import type { Logger } from '../../firmware/src/util/logger.js';
import type { WatchdogDevice } from './watchdog-device.js';

export type KeeperState = 'idle' | 'petting' | 'withholding' | 'stopped';

const TRANSITIONS: Record<KeeperState, readonly KeeperState[]> = {
  idle: ['petting', 'stopped'],
  petting: ['withholding', 'stopped'],
  withholding: ['petting', 'stopped'],
  stopped: [],
};

export interface WatchdogKeeperOptions {
  device: WatchdogDevice;
  clock: Clock;
  logger: Logger;
  /** The gateway's own health: SIP listening, event loop responsive, store writable... */
  health: () => boolean | Promise<boolean>;
  /** How often to pet: at most half the watchdog's timeout. */
  intervalMs: number;
  startupGraceMs?: number;
  healthTimeoutMs?: number;
}

export interface KeeperStats {
  state: KeeperState;
  pets: number;
  lastPetAt: number | null;
  /** Clock.now() since when petting has been withheld, or null. */
  withholdingSince: number | null;
  lastReason: string | null;
}

export class WatchdogKeeper {
  private readonly o: Required<WatchdogKeeperOptions>;
  private st: KeeperState = 'idle';
  private timer: TimerHandle | undefined;
  private startedAt = 0;
  private everHealthy = false;
  private pets = 0;
  private lastPetAt: number | null = null;
  private withholdingSince: number | null = null;
  private lastReason: string | null = null;
  private inTick = false;

  constructor(options: WatchdogKeeperOptions) {
    this.o = { startupGraceMs: 120_000, healthTimeoutMs: Math.max(1, Math.floor(options.intervalMs / 2)), ...options };
  }

  stats(): KeeperStats {
    return { state: this.st, pets: this.pets, lastPetAt: this.lastPetAt, withholdingSince: this.withholdingSince, lastReason: this.lastReason };
  }

  async start(): Promise<void> {
    await this.o.device.open();
    this.startedAt = this.o.clock.monotonic();
    this.transition('petting', 'started');
    await this.tick();
  }

  /** disarm: a deliberate stop (SIGTERM), so the watchdog must not reset the box afterwards. */
  async stop(options: { disarm: boolean } = { disarm: true }): Promise<void> {
    this.timer?.cancel();
    if (this.st === 'stopped') return;
    this.transition('stopped', options.disarm ? 'stopped, disarmed' : 'stopped, left armed');
    await this.o.device.close(options);
  }

  private async tick(): Promise<void> {
    if (this.st === 'stopped' || this.inTick) return;
    this.inTick = true;
    try {
      const verdict = await this.check();
      // stop() may have run while the health check was out.
      if (this.stopped()) return;
      const inGrace = !this.everHealthy && this.o.clock.monotonic() - this.startedAt < this.o.startupGraceMs;
      if (verdict.healthy) this.everHealthy = true;
      if (verdict.healthy || inGrace) {
        if (this.st === 'withholding') {
          this.transition('petting', 'health holds again');
          this.withholdingSince = null;
        }
        try {
          await this.o.device.pet();
          this.pets++;
          this.lastPetAt = this.o.clock.now();
        } catch (err) {
          this.o.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'watchdog pet failed');
        }
      } else if (this.st === 'petting') {
        this.lastReason = verdict.reason;
        this.withholdingSince = this.o.clock.now();
        this.transition('withholding', verdict.reason);
      }
    } finally {
      this.inTick = false;
      if (!this.stopped()) this.timer = this.o.clock.setTimer(this.o.intervalMs, () => void this.tick());
    }
  }

  private stopped(): boolean {
    return this.st === 'stopped';
  }

  private check(): Promise<{ healthy: boolean; reason: string }> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: { healthy: boolean; reason: string }) => {
        if (done) return;
        done = true;
        t.cancel();
        resolve(v);
      };
      const t = this.o.clock.setTimer(this.o.healthTimeoutMs, () => finish({ healthy: false, reason: 'health check did not answer' }));
      let r: boolean | Promise<boolean>;
      try {
        r = this.o.health();
      } catch (err) {
        finish({ healthy: false, reason: `health check threw: ${err instanceof Error ? err.message : String(err)}` });
        return;
      }
      Promise.resolve(r).then(
        (ok) => finish(ok ? { healthy: true, reason: 'healthy' } : { healthy: false, reason: 'health check failed' }),
        (err: unknown) => finish({ healthy: false, reason: `health check threw: ${err instanceof Error ? err.message : String(err)}` }),
      );
    });
  }

  private transition(to: KeeperState, why: string): void {
    const from = this.st;
    if (!TRANSITIONS[from].includes(to)) {
      throw new PgwError('PGW_E_STATE_TRANSITION', `watchdog: illegal transition ${from} -> ${to}`, { context: { from, to, why } });
    }
    this.st = to;
    const level = to === 'withholding' ? 'warn' : 'info';
    this.o.logger[level]({ from, to, why }, 'watchdog keeper');
  }
}
