import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { progressBar } from '../../../../ota/cli/progress-bar.js';
import { formatStatusTable } from '../../../../ota/cli/status-format.js';
import type { OtaReported } from '../../../../ota/protocol/reported.js';

function report(extra: Partial<OtaReported>): OtaReported {
  return {
    schema: 1,
    deviceId: 'x',
    state: 'idle',
    id: null,
    target: null,
    running: { version: '1.0.0', slot: 'a' },
    progress: null,
    reason: null,
    preconditions: null,
    waiting: null,
    trial: null,
    queued: null,
    rejectedTarget: null,
    clock: { trusted: true, source: 'clock' },
    seq: 0,
    at: '2024-01-01T00:00:00.000Z',
    ...extra,
  };
}

test('progress bar widths and clamping', () => {
  assert.is(progressBar(0, 10), '[----------]   0.0%');
  assert.is(progressBar(50, 10), '[#####-----]  50.0%');
  assert.is(progressBar(150, 10), '[##########] 100.0%');
  assert.is(progressBar(Number.NaN, 4), '[----]   0.0%');
});

test('the table: a bar on a terminal, numbers otherwise, and the reason or wait in DETAIL', () => {
  const reports = new Map<string, OtaReported>([
    ['pgw-b', report({ state: 'downloading', target: { version: '1.1.0', policy: 'now', url: 'u' }, progress: { phase: 'download', bytes: 512 * 1024, total: 1024 * 1024, percent: 50 } })],
    ['pgw-a', report({ state: 'refused', target: { version: '0.9.0', policy: 'now', url: 'u' }, reason: { code: 'not-newer', message: '0.9.0 is older' } })],
    ['pgw-c', report({ state: 'waiting-idle', waiting: { for: 'calls', activeCalls: 2 } })],
  ]);
  const tty = formatStatusTable(reports, { tty: true });
  const lines = tty.trimEnd().split('\n');
  assert.match(lines[0]!, /^DEVICE\s+STATE\s+TARGET\s+RUNNING\s+PROGRESS\s+DETAIL$/);
  assert.match(lines[1]!, /^pgw-a\s+refused\s+0\.9\.0\s+1\.0\.0 \(a\)\s+not-newer: 0\.9\.0 is older$/);
  assert.match(lines[2]!, /^pgw-b\s+downloading\s+1\.1\.0\s+1\.0\.0 \(a\)\s+dl \[##########----------\] {2}50\.0%$/);
  assert.match(lines[3]!, /waiting for 2 call\(s\) to end$/);
  const plain = formatStatusTable(reports, { tty: false });
  assert.match(plain, /dl 50\.0% \(512\.0 KiB\/1\.0 MiB\)/);
  assert.not.match(plain, /#/);
});

test.run();
