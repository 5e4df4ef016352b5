/**
 * Issue 4: time from the reboot to the commit decision.
 *
 * Each run: a box whose agent has installed an update and asked for the
 * reboot; the simulated boot loader boots the new slot; a fresh agent
 * process (node + tsx, like the gateway starting after a reboot) starts on
 * it, finds the trial, health-checks, soaks and commits. Measured from the
 * process spawn ("the boot") to the agent's `committed` transition, and
 * split into start-up (spawn → agent started), trial detection (→ trial)
 * and decision (→ committed, which includes the soak). The agent's own
 * overhead is the total minus the configured soak.
 *
 * Soak and health interval are shortened (PGW_BENCH_OTA_SOAK_MS, default
 * 2000; interval 250 ms): with the default 5 min soak the decision comes
 * at soak + at most one health interval + the figures below.
 * Runs: PGW_BENCH_OTA_COMMIT_RUNS (default 5).
 */
import { join } from 'node:path';
import { simulateBoot } from '../../hw/slots/file-backend.js';
import { AgentProcess } from '../integration/ota/support/agent-process.js';
import { startMosquitto } from '../integration/ota/support/mosquitto.js';
import { SystemClock } from '../../firmware/src/util/clock.js';
import { startBundleServer } from '../unit/ota/support/bundle-server.js';
import { desiredFor, makeBundle, makeKeys } from '../unit/ota/support/bundles.js';
import { FakeLink, SimBox } from '../unit/ota/support/sim-box.js';
import { fmt, type Bench, type BenchResult } from './bench-api.js';

const SOAK_MS = Number(process.env.PGW_BENCH_OTA_SOAK_MS ?? 2_000);
const RUNS = Number(process.env.PGW_BENCH_OTA_COMMIT_RUNS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const bench: Bench = {
  name: 'ota-commit-time',
  title: 'OTA: time from the reboot to the commit decision',
  issue: 4,
  timeoutMs: 6 * 60_000,
  async run(ctx): Promise<BenchResult> {
    const keys = makeKeys();
    const b = await makeBundle({ dir: ctx.workDir, version: '9.0.0', keys, imageSize: 1_000_000 });
    const server = await startBundleServer();
    server.serve('b', b.path);
    const broker = await startMosquitto();
    const tuning = { soakMs: SOAK_MS, healthIntervalMs: 250, trialTimeoutMs: SOAK_MS * 5, reserveBytes: 0 };
    const rows: Array<Array<string | number>> = [];
    const totals: number[] = [];
    const overheads: number[] = [];
    try {
      for (let i = 0; i < RUNS && Date.now() < ctx.deadline - 60_000; i++) {
        // Install in-process up to the reboot request.
        const root = join(ctx.workDir, `box-${i}`);
        const link = new FakeLink();
        const box = new SimBox({ root, clock: new SystemClock(), link, trustedKeys: [keys.trusted], tuning });
        await box.init();
        await box.start();
        link.desire(desiredFor(b, server.url('b')));
        while (box.board.rebootRequests.length === 0) await new Promise((r) => setTimeout(r, 20));
        await box.stopAgent();
        await simulateBoot(box.slotsRoot);
        // "Boot": a fresh process on the new slot.
        const t0 = performance.now();
        const p = new AgentProcess({ root, deviceId: `bench-${i}`, brokerUrl: broker.url, trustedPem: keys.publicPem, tuning });
        const at: Record<string, number> = {};
        try {
          await p.waitFor((m) => m.t === 'transition' && m.state === 'trial', 'trial', 60_000);
          at.trial = performance.now() - t0;
          await p.waitFor((m) => m.t === 'transition' && m.state === 'committed', 'committed', 60_000);
          at.committed = performance.now() - t0;
        } finally {
          await p.kill();
        }
        const overhead = at.committed! - SOAK_MS;
        totals.push(at.committed!);
        overheads.push(overhead);
        rows.push([i + 1, fmt(at.trial!, 0), fmt(at.committed! - at.trial!, 0), fmt(at.committed!, 0), fmt(overhead, 0)]);
        ctx.log(`run ${i + 1}: trial at ${fmt(at.trial!, 0)} ms, committed at ${fmt(at.committed!, 0)} ms`);
      }
    } finally {
      await broker.stop();
      await server.close();
    }
    return {
      figures: [
        { label: `reboot → commit decision (median, soak ${SOAK_MS} ms)`, value: fmt(median(totals), 0), unit: 'ms' },
        { label: 'agent overhead beyond the soak (median)', value: fmt(median(overheads), 0), unit: 'ms' },
      ],
      method: [
        `${totals.length} runs. Process spawn (node --import tsx, i.e. with TypeScript compiled on the fly; the bundled dist/ starts faster) → the agent's persisted transitions, reported over IPC.`,
        `Soak ${SOAK_MS} ms, health checks every 250 ms (a check that reads the booted image: the gateway's real probes add their own latency).`,
      ],
      tables: [{ caption: 'per run (ms from spawn)', columns: ['run', '→ trial', 'trial → committed', 'total', 'total − soak'], rows }],
      data: { totals, overheads, soakMs: SOAK_MS },
    };
  },
};

export default bench;
