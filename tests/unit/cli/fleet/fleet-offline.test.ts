/** `pgw fleet` without a broker: usage, local validation, the status table. Against mosquitto: tests/integration/sync/fleet-cli.test.ts. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFleet } from '../../../../firmware/src/cli/fleet/index.js';
import { desiredFromDocument } from '../../../../firmware/src/cli/fleet/config-push.js';
import { formatTable, STATUS_COLUMNS, statusRow } from '../../../../firmware/src/cli/fleet/status-table.js';
import { buildPractice } from '../../sync/support/practice.js';

const dir = mkdtempSync(join(tmpdir(), 'pgw-fleet-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function io(env: Record<string, string> = {}) {
  const o = { out: '', err: '' };
  return { o, io: { out: (t: string) => void (o.out += t), err: (t: string) => void (o.err += t), env } };
}

test('usage errors exit 2 with the usage text', async () => {
  const cases: string[][] = [
    [],
    ['frob'],
    ['config', 'push', '--device', 'box-1', 'f.json'], // no broker
    ['config', 'push', '--broker', 'http://x', '--device', 'box-1', 'f.json'],
    ['config', 'push', '--broker', 'mqtt://127.0.0.1:1', 'f.json'], // no device
    ['config', 'push', '--broker', 'mqtt://127.0.0.1:1', '--device', 'a/b', 'f.json'],
    ['config', 'push', '--broker', 'mqtt://127.0.0.1:1', '--device', 'box', 'a.json', 'b.json'],
    ['status', '--broker', 'mqtt://127.0.0.1:1', '--bogus'],
    ['status', '--broker', 'mqtt://127.0.0.1:1', '--timeout', '-3'],
    ['status', '--broker', 'mqtt://127.0.0.1:1', '--cert', '/x.pem'],
  ];
  for (const argv of cases) {
    const { o, io: x } = io();
    const code = await runFleet(argv, x);
    assert.is(code, 2, `${argv.join(' ')} → ${code}: ${o.err}`);
    assert.match(o.err, /Usage:/);
  }
});

test('--help exits 0 and shows both commands', async () => {
  const { o, io: x } = io();
  assert.is(await runFleet(['--help'], x), 0);
  assert.match(o.out, /pgw fleet config push/);
  assert.match(o.out, /pgw fleet status/);
});

test('an invalid file is refused locally with path: message lines and exit 1, before any broker', async () => {
  const bad = buildPractice({ version: 4 }) as { extensions: Array<{ number: string }> };
  bad.extensions[0]!.number = 'x1';
  const f = join(dir, 'bad.json');
  writeFileSync(f, JSON.stringify(bad));
  const { o, io: x } = io();
  // The broker URL points nowhere: exit 1 proves nothing was tried.
  const code = await runFleet(['config', 'push', '--broker', 'mqtt://127.0.0.1:1', '--device', 'box-1', f], x);
  assert.is(code, 1);
  assert.match(o.out, /^practice\.extensions\[0\]\.number: /m);
  assert.match(o.err, /nothing pushed/);
});

test('a missing or non-JSON file exits 1', async () => {
  const f = join(dir, 'broken.json');
  writeFileSync(f, '{"version": 1,');
  for (const file of [f, join(dir, 'missing.json')]) {
    const { o, io: x } = io();
    assert.is(await runFleet(['config', 'push', '--broker', 'mqtt://127.0.0.1:1', '--device', 'b', file], x), 1, o.err);
  }
});

test('a valid file and no broker: exit 3, the broker named without credentials', async () => {
  const f = join(dir, 'good.json');
  writeFileSync(f, JSON.stringify(buildPractice({ version: 4 })));
  const { o, io: x } = io();
  const code = await runFleet(['config', 'push', '--broker', 'mqtt://u:pw@127.0.0.1:1', '--device', 'box-1', f], x);
  assert.is(code, 3);
  assert.match(o.err, /cannot connect to the broker mqtt:\/\/\*\*\*@127\.0\.0\.1:1/);
});

test('FILE may be a desired payload, a practice or a gateway file', () => {
  const p = buildPractice({ version: 6 });
  assert.equal(desiredFromDocument(p).doc, { version: 6, practice: p });
  assert.equal(desiredFromDocument({ version: 6, practice: p }).doc, { version: 6, practice: p });
  assert.equal(desiredFromDocument({ device: { id: 'x' }, practice: p }).doc, { version: 6, practice: p });
  assert.ok(desiredFromDocument({ device: { id: 'x' } }).error);
});

test('the status table: one row per box, online or not, rejected versions shown', () => {
  const now = Date.parse('2025-03-01T10:00:00Z');
  const rows = [
    statusRow(
      {
        deviceId: 'pgw-0001',
        status: {
          online: true,
          deviceId: 'pgw-0001',
          mode: 'survivability',
          configVersion: 7,
          uplinks: [
            { name: 'cloud', state: 'down' },
            { name: 'backup', state: 'up' },
          ],
          registrations: 12,
          activeCalls: 2,
          firmware: { version: '1.2.0', slot: 'b' },
          at: '2025-03-01T09:59:30Z',
        },
        reported: { version: 8, status: 'rejected', errors: [], at: '', appliedVersion: 7 },
      },
      now,
    ),
    statusRow({ deviceId: 'pgw-0002', status: { online: false } }, now),
  ];
  assert.equal(rows[0], ['pgw-0001', 'yes', 'survivability', '7 (v8 rejected)', 'cloud:down backup:up', '12', '2', '1.2.0/b', '30s ago']);
  assert.equal(rows[1], ['pgw-0002', 'no', '-', '-', '-', '-', '-', '-', '-']);
  const text = formatTable(STATUS_COLUMNS, rows);
  const lines = text.trimEnd().split('\n');
  assert.is(lines.length, 3);
  assert.match(lines[0]!, /^DEVICE\s+ONLINE\s+MODE\s+CONFIG/);
  assert.is(lines[1]!.indexOf('yes'), lines[0]!.indexOf('ONLINE'), 'columns line up');
});

test.run();
