/**
 * Benchmark of the cloud sync (issue 3, "Benchmarks"), against a real
 * mosquitto on 127.0.0.1 and the sync layer in this process:
 *
 * 1. Milliseconds from the cloud publishing `config/desired` to it
 *    receiving `config/reported` for that version, for practices of 10,
 *    200 and 1,000 extensions (target: < 200 ms at 200). Each push is a
 *    real change (one extension renamed), so the box validates, diffs,
 *    applies (a recording applier: the PBX's own apply time is not in
 *    this figure), stores the last known good (fsync) and reports.
 * 2. Call records drained per second after an outage: the broker is
 *    stopped, N records are written to the outbox (each fsync'ed; that
 *    rate is printed too), the broker is started, and the time from the
 *    box reconnecting to the cloud consumer holding all N is measured.
 *
 *   node --import tsx tests/bench/sync-config-apply.ts [--reps N] [--cdrs N] [--json]
 *
 * Prints a table, then one `BENCH {...}` JSON line for docs/BENCHMARKS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CallRecord, ReportedConfig } from '../../firmware/src/sync/payloads.js';
import { deviceTopics } from '../../firmware/src/sync/topics.js';
import { CloudClient, startBox } from '../integration/sync/support/cloud.js';
import { startMosquitto } from '../integration/sync/support/mosquitto.js';
import { buildPractice } from '../unit/sync/support/practice.js';
import { summarize } from './support/stats.js';
import type { Summary } from './support/stats.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: process.env.PGW_BENCH_REPS ?? '10' },
    cdrs: { type: 'string', default: process.env.PGW_BENCH_CDRS ?? '2000' },
    sizes: { type: 'string', default: '10,200,1000' },
  },
});
const REPS = Math.max(1, Number(values.reps));
const CDRS = Math.max(1, Number(values.cdrs));
const SIZES = String(values.sizes)
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => n > 0);

const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');

async function main(): Promise<void> {
  const broker = await startMosquitto();
  const dataDir = mkdtempSync(join(tmpdir(), 'pgw-bench-sync-'));
  const deviceId = 'bench-box';
  const t = deviceTopics(deviceId);
  const box = await startBox({ url: broker.url, deviceId, dataDir });
  const cloud = await CloudClient.connect(broker.url, { persistent: true, clientId: 'bench-cloud' });
  await cloud.subscribe([t.configReported, t.cdr]);
  const results: Record<string, unknown> = { machine: { node: process.version } };
  try {
    while (box.sync.connection.state !== 'connected') await new Promise((r) => setTimeout(r, 10));

    // 1. desired → reported
    const apply: Array<{ extensions: number; summary: Summary; bytes: number }> = [];
    let version = 0;
    for (const size of SIZES) {
      const times: number[] = [];
      let bytes = 0;
      // One warm-up push per size (first apply adds every extension), not counted.
      for (let i = -1; i < REPS; i++) {
        version++;
        const p = buildPractice({ version, extensions: size });
        (p.extensions[i < 0 ? 0 : i % size] as { name: string }).name = `Renamed ${version}`;
        const payload = JSON.stringify({ version, practice: p });
        bytes = Buffer.byteLength(payload);
        const v = version;
        const started = Date.now(); // CloudClient stamps arrivals with Date.now()
        await cloud.publish(t.configDesired, payload, { qos: 1, retain: true });
        const m = await cloud.waitFor(
          (x) => x.topic === t.configReported && !x.retain && (x.json as ReportedConfig).version === v,
          `report of v${v}`,
          30_000,
        );
        const ms = m.at - started;
        if ((m.json as ReportedConfig).status !== 'applied') throw new Error(`v${v} not applied: ${m.text}`);
        if (i >= 0) times.push(ms);
      }
      apply.push({ extensions: size, summary: summarize(times), bytes });
    }
    results.configApplyMs = apply;

    // 2. call records drained after an outage
    await box.sync.whenCdrsDrained();
    const cdrsBefore = cloud.on(t.cdr).length;
    await broker.stop();
    const writeStart = performance.now();
    const now = new Date().toISOString();
    for (let i = 0; i < CDRS; i++) {
      const r: Omit<CallRecord, 'id'> = {
        callId: `bench-${i}`,
        direction: 'inbound',
        from: { number: '+447700900123' },
        to: { number: '600' },
        arrivedAt: now,
        answeredAt: now,
        endedAt: now,
        uplink: 'cloud',
        huntGroup: '600',
        waitSeconds: 4,
        talkSeconds: 120,
        disposition: 'answered',
      };
      await box.sync.recordCall(r);
    }
    const writeMs = performance.now() - writeStart;
    const startedBroker = performance.now();
    await broker.start();
    while (box.sync.connection.state !== 'connected') await new Promise((r) => setTimeout(r, 2));
    const reconnected = performance.now();
    const reconnectedWall = Date.now();
    await cloud.waitFor(() => cloud.on(t.cdr).length >= cdrsBefore + CDRS, `${CDRS} records`, 300_000);
    const drainMs = cloud.on(t.cdr).at(-1)!.at - reconnectedWall;
    const got = cloud.on(t.cdr).slice(cdrsBefore).map((m) => (m.json as CallRecord).callId);
    const inOrder = got.every((c, i) => c === `bench-${i}`);
    results.cdr = {
      records: CDRS,
      writtenPerSecond: Math.round((CDRS / writeMs) * 1000),
      reconnectMs: Math.round(reconnected - startedBroker),
      drainMs: Math.round(drainMs),
      drainedPerSecond: Math.round((CDRS / Math.max(1, drainMs)) * 1000),
      exactlyOnceInOrder: inOrder && got.length === CDRS,
    };

    console.log('\nconfig/desired -> config/reported (ms), fake applier, real validation, diff, store fsync and MQTT round trip');
    console.log('extensions  payload KiB  n    median   p99      max');
    for (const a of apply)
      console.log(
        `${String(a.extensions).padEnd(12)}${(a.bytes / 1024).toFixed(1).padEnd(13)}${String(a.summary.n).padEnd(5)}${fmt(a.summary.median).padEnd(9)}${fmt(a.summary.p99).padEnd(9)}${fmt(a.summary.max)}`,
      );
    const c = results.cdr as Record<string, unknown>;
    console.log(`\ncall records after an outage: ${CDRS} records`);
    console.log(`  written to the outbox (fsync each): ${c.writtenPerSecond}/s`);
    console.log(`  broker start -> box reconnected: ${c.reconnectMs} ms`);
    console.log(`  drained: ${c.drainMs} ms = ${c.drainedPerSecond} records/s; exactly once in order: ${c.exactlyOnceInOrder}`);
    console.log(`\nBENCH ${JSON.stringify({ name: 'sync-config-apply', ...results })}`);
  } finally {
    await cloud.end();
    await box.stop();
    await broker.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
