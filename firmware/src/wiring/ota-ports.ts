/**
 * The update agent's ports (ota/agent/ports.ts) over the gateway's own
 * services. The agent starts before them (its trial loop guard must count
 * a start even when the gateway later fails to come up), so each port is
 * bound once its service exists:
 *
 * - PbxCallGuard: calls from the PBX (calls, not legs); a hold is the PBX
 *   answering new INVITEs 503 + Retry-After (RFC 3261 §21.5.4) while calls
 *   already up carry on. Every hold ends by itself after its time, so a lost
 *   release (or a reboot that never comes) cannot leave the box refusing
 *   calls for good. Before the PBX exists there are no calls; a hold taken
 *   then is applied when it is bound.
 * - DeferredHealth: unhealthy ("still starting") until the SIP stack and the
 *   admin API are up, then the real probes.
 * - DeferredOtaLink: the cloud sync's MQTT connection, once it exists; until
 *   then a publish rejects (the agent's reporter sends again on connect) and
 *   subscriptions wait.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { CallGuard, HealthCheck, HealthReport, OtaLink } from '../../../ota/agent/ports.js';

/** The part of the Pbx the guard uses. */
export interface PbxCallControl {
  activeCalls(): readonly unknown[];
  stopAcceptingCalls(): void;
  resumeAcceptingCalls(): void;
}

export class PbxCallGuard implements CallGuard {
  private pbx: PbxCallControl | null = null;
  private hold: { id: number; timer: TimerHandle } | null = null;
  private seq = 0;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly options: { clock: Clock; logger: Logger }) {
    this.log = options.logger.child({ component: 'ota-calls' });
  }

  bind(pbx: PbxCallControl): void {
    this.pbx = pbx;
    if (this.hold && !this.closed) pbx.stopAcceptingCalls();
  }

  activeCalls(): number {
    return this.pbx?.activeCalls().length ?? 0;
  }

  holdNewCalls(ms: number): () => void {
    if (this.closed) return () => undefined;
    this.hold?.timer.cancel();
    const id = ++this.seq;
    const release = (why: string): void => {
      if (this.hold?.id !== id) return; // released already, or replaced by a newer hold
      this.hold.timer.cancel();
      this.hold = null;
      if (this.closed) return;
      this.pbx?.resumeAcceptingCalls();
      this.log.info({ why }, 'new calls accepted again');
    };
    this.hold = { id, timer: this.options.clock.setTimer(ms, () => release('the hold timed out')) };
    this.pbx?.stopAcceptingCalls();
    this.log.info({ ms }, 'new calls refused (503) for the update reboot');
    return () => release('released by the update agent');
  }

  /** The gateway is stopping: it refuses new calls itself now, and no release may undo that. */
  close(): void {
    this.closed = true;
    this.hold?.timer.cancel();
    this.hold = null;
  }
}

export class DeferredHealth implements HealthCheck {
  private inner: HealthCheck | null = null;

  bind(check: HealthCheck): void {
    this.inner = check;
  }

  check(signal: AbortSignal): Promise<HealthReport> {
    if (this.inner) return this.inner.check(signal);
    return Promise.resolve({ healthy: false, checks: [{ name: 'gateway', ok: false, detail: 'the gateway is still starting' }] });
  }
}

interface Pending<H> {
  handler: H;
  off: (() => void) | null;
  cancelled: boolean;
}

export class DeferredOtaLink implements OtaLink {
  private target: OtaLink | null = null;
  private readonly desired = new Set<Pending<(payload: Buffer) => void>>();
  private readonly connected = new Set<Pending<() => void>>();

  constructor(private readonly onError: (e: Error) => void) {}

  bind(link: OtaLink): void {
    if (this.target) throw new Error('the OTA link is bound already');
    this.target = link;
    for (const p of this.connected) p.off = link.onConnected(p.handler);
    for (const p of this.desired) void this.subscribe(link, p);
  }

  publishReported(payload: string): Promise<void> {
    if (!this.target) return Promise.reject(new Error('the cloud connection is not set up yet'));
    return this.target.publishReported(payload);
  }

  async subscribeDesired(handler: (payload: Buffer) => void): Promise<() => void> {
    const p: Pending<(payload: Buffer) => void> = { handler, off: null, cancelled: false };
    this.desired.add(p);
    if (this.target) await this.subscribe(this.target, p);
    return () => {
      p.cancelled = true;
      this.desired.delete(p);
      p.off?.();
    };
  }

  onConnected(handler: () => void): () => void {
    const p: Pending<() => void> = { handler, off: this.target ? this.target.onConnected(handler) : null, cancelled: false };
    this.connected.add(p);
    return () => {
      p.cancelled = true;
      this.connected.delete(p);
      p.off?.();
    };
  }

  private async subscribe(link: OtaLink, p: Pending<(payload: Buffer) => void>): Promise<void> {
    try {
      const off = await link.subscribeDesired(p.handler);
      if (p.cancelled) off();
      else p.off = off;
    } catch (e) {
      this.onError(e as Error);
    }
  }
}
