/**
 * The sync layer in a process of its own, for the tests that kill -9 it:
 * a small composition root with the real PracticeStore as last known good,
 * an applier that goes through the apply steps slowly and writes each to
 * a file, and, when asked, call records produced at start.
 *
 * Config: env PGW_SYNC_CHILD, JSON { url, deviceId, dataDir, stepDelayMs?,
 * cdrCount?, cdrPrefix?, logLevel? }. It prints JSON lines with a `child`
 * field for the test to wait on (`ready`, `apply-step`, `apply-done`,
 * `cdr-recorded`, `cdrs-recorded`); SIGTERM stops it cleanly.
 *
 * Not a test file (no .test.ts): tests/run.ts does not pick it up.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Practice } from '../../../../firmware/src/config/practice-schema.js';
import { PracticeStore } from '../../../../firmware/src/store/practice-store.js';
import { SystemClock } from '../../../../firmware/src/util/clock.js';
import { createLogger } from '../../../../firmware/src/util/logger.js';
import { createCloudSync } from '../../../../firmware/src/sync/cloud-sync.js';
import { lastKnownGoodFromPracticeStore } from '../../../../firmware/src/sync/last-known-good.js';
import { APPLY_STEPS } from '../../../../firmware/src/sync/ports.js';
import type { AppliedPractice, ApplyOptions, ApplyResult, PracticeApplier } from '../../../../firmware/src/sync/ports.js';
import { cloudConfig } from './cloud.js';
import { APPLIER_LOG } from './child-config.js';
import type { ChildConfig } from './child-config.js';

function say(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ child: o.child, ...o })}\n`);
}

class SlowStepApplier implements PracticeApplier {
  private running: AppliedPractice | undefined;
  constructor(
    private readonly logFile: string,
    private readonly stepDelayMs: number,
  ) {}
  current(): AppliedPractice | undefined {
    return this.running;
  }
  async apply(practice: Practice, o: ApplyOptions): Promise<ApplyResult> {
    for (const step of APPLY_STEPS) {
      appendFileSync(this.logFile, `${JSON.stringify({ version: o.version, reason: o.reason, step })}\n`);
      say({ child: 'apply-step', version: o.version, reason: o.reason, step });
      await new Promise((r) => setTimeout(r, this.stepDelayMs));
    }
    this.running = { version: o.version, practice };
    appendFileSync(this.logFile, `${JSON.stringify({ version: o.version, reason: o.reason, done: true })}\n`);
    say({ child: 'apply-done', version: o.version, reason: o.reason });
    return { ok: true };
  }
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.PGW_SYNC_CHILD ?? '{}') as ChildConfig;
  const logger = createLogger({ level: cfg.logLevel ?? 'warn' });
  const store = new PracticeStore({ dataDir: cfg.dataDir, logger });
  const applier = new SlowStepApplier(join(cfg.dataDir, APPLIER_LOG), cfg.stepDelayMs ?? 0);
  const sync = createCloudSync({
    deviceId: cfg.deviceId,
    cloud: cloudConfig(cfg.url),
    dataDir: cfg.dataDir,
    applier,
    lastKnownGood: lastKnownGoodFromPracticeStore(store),
    status: {
      status: () => ({
        mode: 'normal',
        configVersion: applier.current()?.version ?? null,
        uplinks: [],
        registrations: 0,
        activeCalls: 0,
        firmware: { version: '0.1.0', slot: 'a' },
      }),
    },
    clock: new SystemClock(),
    logger,
    stableAfterMs: 500,
  });
  // SystemClock timers are unref'd; the gateway's sockets keep it alive, here this does.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  process.on('SIGTERM', () => {
    void sync.stop().finally(() => {
      clearInterval(keepAlive);
      process.exit(0);
    });
  });
  await sync.start();
  say({ child: 'ready', running: applier.current()?.version ?? null });
  for (let i = 0; i < (cfg.cdrCount ?? 0); i++) {
    const now = new Date().toISOString();
    const r = await sync.recordCall({
      id: `${cfg.cdrPrefix ?? 'cdr'}-${i}`,
      direction: 'inbound',
      from: { number: '+447700900123' },
      to: { number: '600' },
      arrivedAt: now,
      endedAt: now,
      disposition: 'answered',
    });
    say({ child: 'cdr-recorded', id: r.id });
  }
  if ((cfg.cdrCount ?? 0) > 0) say({ child: 'cdrs-recorded', count: cfg.cdrCount });
}

main().catch((e: unknown) => {
  process.stderr.write(`sync-child failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
