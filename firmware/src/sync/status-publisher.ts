/**
 * `status` (retained): published on every (re)connect, whenever the
 * figures change, and at least every `intervalMs` (60 s by default) so the
 * cloud can tell a quiet box from a stuck one (CONTRACT.md, issue 3).
 *
 * Changes are coalesced for `coalesceMs`: forty phones re-registering after
 * a switch reboot make one publish, not forty. A change that leaves the
 * figures as they were publishes nothing.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { canonicalJson } from './canonical-json.js';
import type { GatewayStatus, OnlineStatusPayload } from './payloads.js';
import type { StatusSource } from './ports.js';

export interface StatusPublisherOptions {
  deviceId: string;
  source: StatusSource;
  clock: Clock;
  logger: Logger;
  /** Publishes retained on `status`; resolves on PUBACK. */
  publish(payload: OnlineStatusPayload): Promise<void>;
  intervalMs?: number;
  coalesceMs?: number;
}

export const DEFAULT_STATUS_INTERVAL_MS = 60_000;
const DEFAULT_COALESCE_MS = 200;

export class StatusPublisher {
  private online = false;
  private periodic: TimerHandle | undefined;
  private pendingChange: TimerHandle | undefined;
  private lastFigures: string | undefined;
  private lastPublished: OnlineStatusPayload | undefined;
  private publishing: Promise<void> = Promise.resolve();
  private count = 0;

  constructor(private readonly options: StatusPublisherOptions) {}

  /** Connected: publish now (the Will may have replaced the retained status) and keep it fresh. */
  setOnline(): void {
    this.online = true;
    void this.publishNow(true);
  }

  setOffline(): void {
    this.online = false;
    this.periodic?.cancel();
    this.periodic = undefined;
    this.pendingChange?.cancel();
    this.pendingChange = undefined;
  }

  /** Something the status shows may have changed. */
  changed(): void {
    if (!this.online || this.pendingChange) return;
    this.pendingChange = this.options.clock.setTimer(this.options.coalesceMs ?? DEFAULT_COALESCE_MS, () => {
      this.pendingChange = undefined;
      void this.publishNow(false);
    });
  }

  /** The last status published (for diagnostics). */
  last(): OnlineStatusPayload | undefined {
    return this.lastPublished;
  }

  get published(): number {
    return this.count;
  }

  /** Resolves when the publish in progress, if any, has finished. */
  idle(): Promise<void> {
    return this.publishing;
  }

  private publishNow(force: boolean): Promise<void> {
    const run = this.publishing.then(() => this.doPublish(force));
    this.publishing = run.catch(() => undefined);
    return run;
  }

  private async doPublish(force: boolean): Promise<void> {
    if (!this.online) return;
    this.schedulePeriodic();
    let status: GatewayStatus;
    try {
      status = await this.options.source.status();
    } catch (e) {
      this.options.logger.warn({ err: (e as Error).message }, 'status source failed; status not published');
      return;
    }
    const figures = canonicalJson(pickFigures(status));
    if (!force && figures === this.lastFigures) return;
    const payload: OnlineStatusPayload = {
      online: true,
      deviceId: this.options.deviceId,
      ...pickFigures(status),
      at: new Date(this.options.clock.now()).toISOString(),
    };
    try {
      await this.options.publish(payload);
      this.lastFigures = figures;
      this.lastPublished = payload;
      this.count++;
    } catch (e) {
      this.options.logger.debug({ err: (e as Error).message }, 'status not published');
    }
  }

  private schedulePeriodic(): void {
    this.periodic?.cancel();
    this.periodic = this.options.clock.setTimer(this.options.intervalMs ?? DEFAULT_STATUS_INTERVAL_MS, () => {
      this.periodic = undefined;
      void this.publishNow(true);
    });
  }
}

/** The contract's figures only, so a provider's extra fields (or secrets) never ride along. */
function pickFigures(s: GatewayStatus): GatewayStatus {
  return {
    mode: s.mode,
    configVersion: s.configVersion,
    uplinks: s.uplinks.map((u) => ({ name: u.name, state: u.state })),
    registrations: s.registrations,
    activeCalls: s.activeCalls,
    firmware: { version: s.firmware.version, slot: s.firmware.slot },
  };
}
