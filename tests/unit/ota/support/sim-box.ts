/**
 * A simulated box for agent tests: `file` slots (image layout) with the
 * simulated boot loader, a board whose reboot is recorded (the test then
 * "reboots": stops the agent, runs the boot loader, starts a new agent), a
 * call guard the test sets, and a health check and running version read
 * from the booted slot's image (see makeImage: its first line says the
 * version and whether that "firmware" is healthy).
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../../../firmware/src/util/clock.js';
import { createLogger, silentLogger } from '../../../../firmware/src/util/logger.js';
import type { Logger } from '../../../../firmware/src/util/logger.js';
import { FileSlotBackend, fileSlotPath, initFileSlots, readBootedInfo, simulateBoot } from '../../../../hw/slots/file-backend.js';
import { OtaAgent } from '../../../../ota/agent/agent.js';
import type { OtaAgentOptions } from '../../../../ota/agent/agent.js';
import type { CallGuard, HealthCheck, HealthReport, OtaBoardPort, OtaLink } from '../../../../ota/agent/ports.js';
import type { TrustedKey } from '../../../../ota/bundle/keys.js';
import type { OtaReported } from '../../../../ota/protocol/reported.js';
import { makeImage, tempDir } from './bundles.js';

export const TEST_BOARD = 'test-board';

/** What the image in a slot says about itself. */
export async function slotImageInfo(path: string): Promise<{ version: string; healthy: boolean }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await fh.read(buf, 0, 256, 0);
    const line = buf.subarray(0, bytesRead).toString('utf8').split('\n')[0]!;
    return JSON.parse(line) as { version: string; healthy: boolean };
  } finally {
    await fh.close();
  }
}

export class SimCalls implements CallGuard {
  active = 0;
  holds: Array<{ ms: number; released: boolean; activeAtHold: number }> = [];
  activeCalls(): number {
    return this.active;
  }
  holdNewCalls(ms: number): () => void {
    const h = { ms, released: false, activeAtHold: this.active };
    this.holds.push(h);
    return () => {
      h.released = true;
    };
  }
}

export class SimBoard implements OtaBoardPort {
  rebootRequests: Array<{ arg?: string; reason: string }> = [];
  constructor(private readonly root: string) {}
  async bootId(): Promise<string> {
    return (await readBootedInfo(this.root)).bootId;
  }
  async reboot(options: { arg?: string; reason: string }): Promise<void> {
    this.rebootRequests.push(options);
  }
}

export class FakeLink implements OtaLink {
  reported: OtaReported[] = [];
  private handlers: Array<(p: Buffer) => void> = [];
  private connectHandlers: Array<() => void> = [];
  online = true;
  retained: Buffer | undefined;
  async publishReported(payload: string): Promise<void> {
    if (!this.online) throw new Error('offline');
    this.reported.push(JSON.parse(payload) as OtaReported);
  }
  async subscribeDesired(handler: (payload: Buffer) => void): Promise<() => void> {
    this.handlers.push(handler);
    if (this.retained) handler(this.retained);
    return () => {
      this.handlers = this.handlers.filter((h) => h !== handler);
    };
  }
  onConnected(handler: () => void): () => void {
    this.connectHandlers.push(handler);
    return () => {
      this.connectHandlers = this.connectHandlers.filter((h) => h !== handler);
    };
  }
  /** Publishes a retained target. */
  desire(d: object): void {
    this.retained = Buffer.from(JSON.stringify(d));
    for (const h of this.handlers) h(this.retained);
  }
  reconnect(): void {
    this.online = true;
    for (const h of this.connectHandlers) h();
    if (this.retained) for (const h of this.handlers) h(this.retained);
  }
  last(): OtaReported | undefined {
    return this.reported.at(-1);
  }
  states(): string[] {
    const out: string[] = [];
    for (const r of this.reported) if (out.at(-1) !== r.state) out.push(r.state);
    return out;
  }
}

export interface SimBoxOptions {
  root: string;
  clock: Clock;
  /** A fixed link, or a connect function called for every start (a new process connects again). */
  link: OtaLink | (() => Promise<{ link: OtaLink; close: () => Promise<void> }>);
  trustedKeys: readonly TrustedKey[];
  initialVersion?: string;
  tuning?: OtaAgentOptions['tuning'];
  freeSpace?: OtaAgentOptions['freeSpace'];
  siteTimezone?: string;
  clockFloorMs?: number;
  logger?: Logger;
  /** Overrides the image-based health check. */
  health?: HealthCheck;
  onTransition?: OtaAgentOptions['onTransition'];
  onInstallProgress?: OtaAgentOptions['onInstallProgress'];
  boardName?: string;
  deviceId?: string;
}

export class SimBox {
  readonly root: string;
  readonly slotsRoot: string;
  readonly dataDir: string;
  readonly backend: FileSlotBackend;
  readonly board: SimBoard;
  readonly calls = new SimCalls();
  agent: OtaAgent | undefined;
  healthChecks = 0;
  private closeLink: (() => Promise<void>) | undefined;

  constructor(private readonly o: SimBoxOptions) {
    this.root = o.root;
    this.slotsRoot = join(o.root, 'slots-root');
    this.dataDir = join(o.root, 'data');
    this.backend = new FileSlotBackend({ root: this.slotsRoot, layout: 'image' });
    this.board = new SimBoard(this.slotsRoot);
  }

  async init(): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    await initFileSlots(this.slotsRoot, { layout: 'image' });
    await makeImage(fileSlotPath(this.slotsRoot, 'image', 'a'), { version: this.o.initialVersion ?? '1.0.0', healthy: true });
  }

  async bootedImage(): Promise<{ version: string; healthy: boolean; slot: string }> {
    const booted = await readBootedInfo(this.slotsRoot);
    return { ...(await slotImageInfo(fileSlotPath(this.slotsRoot, 'image', booted.slot))), slot: booted.slot };
  }

  /** Starts an agent as the gateway on the booted slot would. */
  async start(): Promise<OtaAgent> {
    const img = await this.bootedImage();
    const health: HealthCheck = this.o.health ?? {
      check: async (): Promise<HealthReport> => {
        this.healthChecks++;
        return { healthy: img.healthy, checks: [{ name: 'sip', ok: img.healthy, detail: img.healthy ? 'OPTIONS answered 200' : 'no answer' }] };
      },
    };
    let link: OtaLink;
    if (typeof this.o.link === 'function') {
      const c = await this.o.link();
      link = c.link;
      this.closeLink = c.close;
    } else link = this.o.link;
    this.agent = new OtaAgent({
      dataDir: this.dataDir,
      deviceId: this.o.deviceId ?? 'pgw-test',
      boardName: this.o.boardName ?? TEST_BOARD,
      runningVersion: img.version,
      slots: this.backend,
      board: this.board,
      calls: this.calls,
      health,
      link,
      trustedKeys: this.o.trustedKeys,
      clock: this.o.clock,
      logger: this.o.logger ?? (process.env.PGW_TEST_OTA_LOG ? createLogger({ level: 'debug' }) : silentLogger()),
      siteTimezone: this.o.siteTimezone,
      freeSpace: this.o.freeSpace,
      clockFloorMs: this.o.clockFloorMs,
      random: () => 0.5,
      tuning: this.o.tuning,
      onTransition: this.o.onTransition,
      onInstallProgress: this.o.onInstallProgress,
    });
    await this.agent.start();
    return this.agent;
  }

  /** The process dies (kill -9 or the reboot's SIGTERM): the agent stops where it is. */
  async stopAgent(): Promise<void> {
    await this.agent?.stop();
    this.agent = undefined;
    await this.closeLink?.();
    this.closeLink = undefined;
  }

  /** A reboot or power cut: the agent stops, the boot loader runs, a new agent starts. */
  async reboot(): Promise<OtaAgent> {
    await this.stopAgent();
    await simulateBoot(this.slotsRoot);
    return this.start();
  }
}

/** A SimBox in a fresh temporary directory named after the test, initialised (Europe/London unless said). */
export async function startSimBox(name: string, options: Omit<SimBoxOptions, 'root'>): Promise<SimBox> {
  const t = await tempDir(`pgw-ota-${name}-`);
  const box = new SimBox({ siteTimezone: 'Europe/London', ...options, root: t.path });
  await box.init();
  return box;
}
