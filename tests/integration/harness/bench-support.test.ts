/**
 * Proves the benchmark helpers on a light load (100 registrations in about a
 * second: not a benchmark, just that the measuring works): Kamailio as the
 * registrar, SIPp at a fixed rate, the process-tree sampler, the statistics.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcSampler, processTree } from '../../bench/support/proc-sampler.js';
import { measureRegisterRate } from '../../bench/support/sipp-load.js';
import { percentile, summarize } from '../../bench/support/stats.js';
import { startKamailio } from '../../support/kamailio.js';
import { freeUdpPort } from '../../support/ports.js';
import { makeUsers } from '../../support/users.js';

test('percentile and summary', () => {
  assert.is(percentile([3, 1, 2], 50), 2);
  assert.is(percentile([1, 2, 3, 4], 50), 2.5);
  assert.is(percentile([1, 2, 3, 4], 100), 4);
  assert.ok(Number.isNaN(percentile([], 50)));
  const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
  assert.is(s.n, 100);
  assert.is(s.max, 100);
  assert.ok(Math.abs(s.p99 - 99.01) < 1e-9);
});

test('a light REGISTER load against Kamailio is measured, with its memory and CPU', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-bench-'));
  const port = await freeUdpPort();
  const users = makeUsers(100);
  const k = await startKamailio({ listenIp: '127.0.0.1', port, users });
  try {
    assert.ok(processTree(k.proc.pid).length > 2, 'kamailio runs several processes');
    const sampler = startProcSampler({ rootPid: k.proc.pid, intervalMs: 200 });
    const r = await measureRegisterRate({ target: `127.0.0.1:${port}`, domain: '127.0.0.1', users, rate: 100, seconds: 1, workDir: dir });
    const usage = sampler.stop();
    assert.ok(r.sustained, r.sipp.report);
    assert.is(r.successful, 100);
    assert.is(r.failed, 0);
    assert.ok(r.achievedPerSec > 50 && r.achievedPerSec < 200, `achieved ${r.achievedPerSec}/s`);
    assert.ok(r.responseTimeMs >= 0 && r.responseTimeMs < 1000, `response ${r.responseTimeMs} ms`);
    assert.ok(usage.rssMb.max > 1, `rss ${usage.rssMb.max} MB`);
    assert.ok(usage.cpuPercent >= 0 && usage.cpuPercent < 400, `cpu ${usage.cpuPercent}%`);
  } finally {
    await k.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
