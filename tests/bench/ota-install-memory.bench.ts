/**
 * Issue 4: memory while the agent downloads and installs a 1 GiB image
 * (target: flat, under 100 MB above the agent's resident size before the
 * update).
 *
 * The whole agent runs in this process: a signed 1 GiB bundle served from
 * 127.0.0.1, `file` slots (image layout), policy `now`. Resident set size
 * (and V8 heap) is sampled every 20 ms from before the target arrives until
 * the reboot request, and split by the agent's state at the sample: the
 * download, and the install (slot write, fsync and read-back). "Flat" is
 * checked too: the RSS in the last quarter of the install is compared with
 * the first quarter (a leak per MiB would show as growth).
 *
 * Size: PGW_BENCH_OTA_INSTALL_MIB (default 1024).
 */
import { SystemClock } from '../../firmware/src/util/clock.js';
import { startBundleServer } from '../unit/ota/support/bundle-server.js';
import { desiredFor, makeBundle, makeKeys } from '../unit/ota/support/bundles.js';
import { FakeLink, SimBox } from '../unit/ota/support/sim-box.js';
import { fmt, type Bench, type BenchResult } from './bench-api.js';

const MIB = Number(process.env.PGW_BENCH_OTA_INSTALL_MIB ?? 1024);
const MB = 1_000_000;

interface Sample {
  t: number;
  state: string;
  rss: number;
  heap: number;
}

const bench: Bench = {
  name: 'ota-install-memory',
  title: 'OTA agent memory while downloading and installing a 1 GiB image',
  issue: 4,
  timeoutMs: 15 * 60_000,
  async run(ctx): Promise<BenchResult> {
    const keys = makeKeys();
    ctx.log(`building a ${MIB} MiB bundle`);
    const b = await makeBundle({ dir: ctx.workDir, version: '9.0.0', keys, imageSize: MIB * 1024 * 1024 });
    const server = await startBundleServer();
    server.serve('b', b.path);
    const link = new FakeLink();
    const box = new SimBox({ root: ctx.workDir, clock: new SystemClock(), link, trustedKeys: [keys.trusted], tuning: { reserveBytes: 0 } });
    await box.init();
    await box.start();
    global.gc?.();
    await new Promise((r) => setTimeout(r, 200));
    const baseline = process.memoryUsage().rss;
    const samples: Sample[] = [];
    const t0 = performance.now();
    const timer = setInterval(() => {
      const m = process.memoryUsage();
      samples.push({ t: performance.now() - t0, state: box.agent?.state ?? '?', rss: m.rss, heap: m.heapUsed });
    }, 20);
    try {
      link.desire(desiredFor(b, server.url('b')));
      while (box.board.rebootRequests.length === 0) {
        if (Date.now() > ctx.deadline - 30_000) throw new Error(`no reboot request before the deadline (state ${box.agent?.state})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      clearInterval(timer);
      await box.stopAgent();
      await server.close();
    }
    const phase = (states: string[]): Sample[] => samples.filter((s) => states.includes(s.state));
    const dl = phase(['downloading', 'verifying']);
    const inst = phase(['installing']);
    const peak = (xs: Sample[]): number => Math.max(...xs.map((s) => s.rss));
    const extraAll = (peak(samples) - baseline) / MB;
    const q = Math.max(1, Math.floor(inst.length / 4));
    const firstQ = inst.slice(0, q);
    const lastQ = inst.slice(-q);
    const mean = (xs: Sample[]): number => xs.reduce((a, s) => a + s.rss, 0) / xs.length;
    const growth = inst.length >= 8 ? (mean(lastQ) - mean(firstQ)) / MB : Number.NaN;
    const secs = (xs: Sample[]): number => (xs.length ? (xs.at(-1)!.t - xs[0]!.t) / 1000 : 0);
    return {
      figures: [
        { label: `peak RSS above the idle agent, download + install of ${MIB} MiB`, value: fmt(extraAll), unit: 'MB', target: '< 100 MB', met: extraAll < 100 },
        { label: 'peak RSS above idle while installing', value: fmt((peak(inst) - baseline) / MB), unit: 'MB' },
        { label: 'RSS growth over the install (last quarter − first quarter)', value: fmt(growth), unit: 'MB', target: 'flat (< 10 MB)', met: Number.isFinite(growth) && growth < 10 },
      ],
      method: [
        `Whole agent in one process, ${MIB} MiB image, file slots on this machine's disk; RSS and V8 heap sampled every 20 ms (${samples.length} samples).`,
        `Idle agent RSS before the target: ${fmt(baseline / MB)} MB. Download + verify took ${fmt(secs(dl))} s, the install (write, fsync, read-back) ${fmt(secs(inst))} s.`,
        'Streams throughout: 1 MiB highWaterMark on file reads and the slot writer, so memory is bounded by a few chunks whatever the image size.',
      ],
      tables: [
        {
          caption: 'by phase',
          columns: ['phase', 'samples', 'peak RSS (MB)', 'peak heap (MB)'],
          rows: [
            ['download + verify', dl.length, fmt(dl.length ? peak(dl) / MB : Number.NaN), fmt(dl.length ? Math.max(...dl.map((s) => s.heap)) / MB : Number.NaN)],
            ['install', inst.length, fmt(inst.length ? peak(inst) / MB : Number.NaN), fmt(inst.length ? Math.max(...inst.map((s) => s.heap)) / MB : Number.NaN)],
          ],
        },
      ],
      data: { baseline, mib: MIB, samples: samples.filter((_, i) => i % 10 === 0) },
    };
  },
};

export default bench;
