/** `pgw fleet config push` and `pgw fleet status` against mosquitto and a box. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFleet } from '../../../firmware/src/cli/fleet/index.js';
import { buildPractice } from '../../unit/sync/support/practice.js';
import { startBox } from './support/cloud.js';
import type { TestBox } from './support/cloud.js';
import { startMosquitto } from './support/mosquitto.js';
import type { Mosquitto } from './support/mosquitto.js';

let broker: Mosquitto;
let box: TestBox;
let other: TestBox;
const dir = mkdtempSync(join(tmpdir(), 'pgw-fleet-it-'));

test.before(async () => {
  broker = await startMosquitto();
  box = await startBox({ url: broker.url, deviceId: 'pgw-0001', dataDir: join(dir, 'box1') });
  other = await startBox({ url: broker.url, deviceId: 'pgw-0002', dataDir: join(dir, 'box2') });
  // Both online before the tests look at status.
  for (const b of [box, other]) {
    const end = Date.now() + 10_000;
    while (b.sync.connection.state !== 'connected' && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }
});

test.after(async () => {
  await box.stop();
  await other.stop();
  await broker.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, doc: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(doc));
  return f;
}

async function fleet(argv: string[]) {
  const o = { out: '', err: '' };
  const code = await runFleet(argv, { out: (t) => void (o.out += t), err: (t) => void (o.err += t), env: {} });
  return { code, ...o };
}

test('config push: exit 0 once the box reports the version applied', async () => {
  const r = await fleet(['config', 'push', '--broker', broker.url, '--device', 'pgw-0001', '--timeout', '10', file('v1.json', buildPractice({ version: 1 }))]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /^pgw-0001: version 1 applied at /);
  assert.is(box.applier.running?.version, 1);
  // A gateway file's practice and a desired payload work the same way.
  const r2 = await fleet(['config', 'push', '--broker', broker.url, '--device', 'pgw-0001', file('gw.json', { device: { id: 'pgw-0001' }, practice: buildPractice({ version: 2, extensions: 4 }) })]);
  assert.is(r2.code, 0, r2.err);
  assert.is(box.applier.running?.version, 2);
  // Pushing the running document again: the box reports it applied, exit 0.
  const r3 = await fleet(['config', 'push', '--broker', broker.url, '--device', 'pgw-0001', file('gw2.json', { version: 2, practice: buildPractice({ version: 2, extensions: 4 }) })]);
  assert.is(r3.code, 0, r3.err);
  assert.is(box.applier.calls.length, 2);
});

test('config push: exit 1 with the box\'s errors when it rejects, and when it ignores an older version', async () => {
  box.applier.failNext = { step: 'uplinks', message: 'trunk backup did not register' };
  const r = await fleet(['config', 'push', '--broker', broker.url, '--device', 'pgw-0001', file('v3.json', buildPractice({ version: 3, withTrunk: true }))]);
  assert.is(r.code, 1);
  assert.match(r.out, /^practice\.uplinks: trunk backup did not register$/m);
  assert.match(r.err, /rejected version 3 .* it runs version 2/);
  const old = await fleet(['config', 'push', '--broker', broker.url, '--device', 'pgw-0001', file('v1b.json', buildPractice({ version: 1, extensions: 9 }))]);
  assert.is(old.code, 1);
  assert.match(old.err, /ignored version 1: version 1 is older than the applied version 2/);
});

test('config push: exit 3 when no box answers in time (the desired stays retained)', async () => {
  const r = await fleet(['config', 'push', '--broker', broker.url, '--device', 'pgw-nobody', '--timeout', '0.5', file('n.json', buildPractice({ version: 1 }))]);
  assert.is(r.code, 3);
  assert.match(r.err, /no report from pgw-nobody within/);
});

test('status: a table of every box, one box by id, JSON, and an unknown box', async () => {
  box.sync.statusChanged();
  await new Promise((r) => setTimeout(r, 400));
  const all = await fleet(['status', '--broker', broker.url]);
  assert.is(all.code, 0, all.err);
  const lines = all.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^DEVICE\s+ONLINE\s+MODE\s+CONFIG\s+UPLINKS\s+REGS\s+CALLS\s+FIRMWARE\s+SEEN$/);
  const row1 = lines.find((l) => l.startsWith('pgw-0001'));
  // Its last report is "applied 2, ignored 1" (the push after the rejected v3).
  assert.ok(row1 && /^pgw-0001\s+yes\s+normal\s+2\s+-\s+0\s+0\s+0\.1\.0\/a\s+\d+s ago$/.test(row1), all.out);
  assert.ok(lines.some((l) => l.startsWith('pgw-0002')), all.out);

  const one = await fleet(['status', '--broker', broker.url, '--device', 'pgw-0002', '--json']);
  assert.is(one.code, 0, one.err);
  const parsed = JSON.parse(one.out) as Array<{ deviceId: string; status: { online: boolean } }>;
  assert.equal(parsed.map((b) => [b.deviceId, b.status.online]), [['pgw-0002', true]]);

  const none = await fleet(['status', '--broker', broker.url, '--device', 'pgw-9999']);
  assert.is(none.code, 1);
  assert.match(none.err, /no status for pgw-9999/);
});

test.run();
