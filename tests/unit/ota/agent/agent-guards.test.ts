/**
 * The agent's guards on a FakeClock: the trial loop guard, the version
 * check on trial, clock trust for windows, targets that cancel or queue,
 * and invalid targets.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { readBootEnv } from '../../../../hw/slots/file-backend.js';
import { startBundleServer } from '../support/bundle-server.js';
import type { BundleServer } from '../support/bundle-server.js';
import { desiredFor, makeBundle, makeKeys, tempDir } from '../support/bundles.js';
import type { BuiltBundle } from '../support/bundles.js';
import { driveToState, driveUntil } from '../support/agent-drive.js';
import { FakeLink, startSimBox } from '../support/sim-box.js';
import type { SimBoxOptions , SimBox} from '../support/sim-box.js';

const keys = makeKeys();
const NIGHT = Date.parse('2024-01-08T22:00:00Z');
const TUNING = { soakMs: 60_000, healthIntervalMs: 10_000, trialTimeoutMs: 300_000, maxTrialBoots: 3, reserveBytes: 0, download: { minBackoffMs: 1_000, maxBackoffMs: 4_000 } };

let dir: Awaited<ReturnType<typeof tempDir>>;
let server: BundleServer;
let good: BuiltBundle;
let big: BuiltBundle;
let newer: BuiltBundle;
let mislabeled: BuiltBundle;

test.before(async () => {
  dir = await tempDir();
  server = await startBundleServer();
  good = await makeBundle({ dir: dir.path, version: '1.1.0', keys });
  big = await makeBundle({ dir: dir.path, version: '1.3.0', keys, imageSize: 2_000_000 });
  newer = await makeBundle({ dir: dir.path, version: '1.4.0', keys });
  // Signed as 1.5.0, but the image inside runs 1.0.9 (a build mistake).
  mislabeled = await makeBundle({ dir: dir.path, version: '1.5.0', keys });
  const { makeImage } = await import('../support/bundles.js');
  const { buildBundle } = await import('../../../../ota/bundle/build.js');
  const img = join(dir.path, 'mis.img');
  await makeImage(img, { version: '1.0.9' });
  await buildBundle({ input: { kind: 'image', path: img }, out: mislabeled.path, version: '1.5.0', compatible: ['test-board'], privateKey: keys.privateKey });
  const { createHash } = await import('node:crypto');
  const bytes = await readFile(mislabeled.path);
  mislabeled = { ...mislabeled, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  for (const [n, b] of Object.entries({ good, big, newer, mislabeled })) server.serve(n, b.path);
});

test.after(async () => {
  await server.close();
  await dir.remove();
});

test.before.each(() => {
  for (const k of Object.keys(server.behaviour)) delete (server.behaviour as Record<string, unknown>)[k];
});

function newBox(name: string, clock: FakeClock, link: FakeLink, extra: Partial<SimBoxOptions> = {}): Promise<SimBox> {
  return startSimBox(name, { clock, link, trustedKeys: [keys.trusted], tuning: TUNING, ...extra });
}

async function toTrial(box: SimBox, clock: FakeClock, link: FakeLink, b: BuiltBundle, name: string): Promise<void> {
  await box.start();
  link.desire(desiredFor(b, server.url(name)));
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { stepMs: 100, what: 'reboot request' });
  await box.reboot();
  await driveToState(clock, () => box.agent, 'trial', 10);
}

test('loop guard: a gateway that keeps restarting on trial is rolled back after maxTrialBoots starts', async () => {
  const clock = new FakeClock(NIGHT);
  const link = new FakeLink();
  const box = await newBox('loop', clock, link);
  await toTrial(box, clock, link, good, 'good');
  for (let i = 0; i < 3; i++) {
    // The gateway crashes (not a reboot): the process starts again on the same slot.
    await box.stopAgent();
    await box.start();
    if (i < 2) await driveToState(clock, () => box.agent, 'trial', 10);
  }
  await driveToState(clock, () => box.agent, 'rolling-back', 10);
  assert.is(box.agent!.record.reason?.code, 'too-many-boots');
  assert.is(box.agent!.record.trial?.boots, 4);
  await driveUntil(clock, () => box.board.rebootRequests.length === 2, { what: 'rollback reboot' });
  await box.reboot();
  await driveToState(clock, () => box.agent, 'rolled-back', 10);
  assert.is((await box.bootedImage()).slot, 'a');
  await box.stopAgent();
});

test('a slot that boots but runs another version than the target is rolled back', async () => {
  const clock = new FakeClock(NIGHT);
  const link = new FakeLink();
  const box = await newBox('mislabeled', clock, link);
  await box.start();
  link.desire(desiredFor(mislabeled, server.url('mislabeled')));
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { stepMs: 100, what: 'reboot request' });
  await box.reboot();
  // The version check is the first thing on trial, so `trial` can pass between two polls:
  // wait for where it ends (the reason below is only given on trial).
  await driveToState(clock, () => box.agent, 'rolling-back', 10);
  assert.is(box.agent!.record.reason?.code, 'version-mismatch');
  await box.stopAgent();
});

test('clock trust: with a flat RTC the window waits for a trusted time; the server Date header supplies it', async () => {
  const clock = new FakeClock(Date.parse('1970-01-05T12:00:00Z'));
  const link = new FakeLink();
  const box = await newBox('rtc', clock, link);
  await box.start();
  // A server whose Date is also useless: nothing to trust.
  server.behaviour.dateHeader = 'Thu, 01 Jan 1970 00:00:00 GMT';
  link.desire(desiredFor(good, server.url('good'), { policy: 'window' }));
  await driveToState(clock, () => box.agent, 'waiting-window', 10);
  await driveUntil(clock, () => link.last()?.waiting?.for === 'clock', { stepMs: 0, what: 'waiting for the clock' });
  assert.equal(link.last()!.clock, { trusted: false, source: null });
  // The admin re-issues it; this time the server's Date says Saturday noon: open.
  server.behaviour.dateHeader = 'Sat, 13 Jan 2024 12:00:00 GMT';
  link.desire(desiredFor(good, server.url('good'), { policy: 'window' }));
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { stepMs: 100, what: 'reboot' });
  assert.equal(link.last()!.clock, { trusted: false, source: 'server' });
  await box.stopAgent();
});

test('defer-until waits for notBefore on the clock; policy now ignores the window', async () => {
  const clock = new FakeClock(Date.parse('2024-01-08T09:00:00Z'));
  const link = new FakeLink();
  const box = await newBox('defer', clock, link);
  await box.start();
  link.desire(desiredFor(good, server.url('good'), { policy: 'defer-until', notBefore: '2024-01-08T13:00:00+01:00' }));
  await driveToState(clock, () => box.agent, 'waiting-window', 10);
  await driveUntil(clock, () => link.last()?.waiting?.for === 'not-before', { stepMs: 0, what: 'not-before' });
  assert.is(link.last()!.waiting!.until, '2024-01-08T12:00:00.000Z');
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { stepMs: 60_000, what: 'reboot' });
  assert.ok(clock.now() >= Date.parse('2024-01-08T12:00:00Z'));
  const box2 = await newBox('now', new FakeClock(Date.parse('2024-01-08T09:00:00Z')), new FakeLink());
  await box2.stopAgent();
  await box.stopAgent();
});

test('a new target cancels a download in progress; one arriving on trial is queued and runs after the commit', async () => {
  const clock = new FakeClock(NIGHT);
  const link = new FakeLink();
  const box = await newBox('cancel', clock, link);
  await box.start();
  server.behaviour.rateBytesPerSec = 500_000;
  link.desire(desiredFor(big, server.url('big')));
  await driveUntil(clock, () => (link.last()?.progress?.bytes ?? 0) > 100_000, { stepMs: 500, what: 'download progress' });
  delete server.behaviour.rateBytesPerSec;
  const target = desiredFor(good, server.url('good'));
  link.desire(target);
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { stepMs: 100, what: 'reboot for the new target' });
  assert.is(box.agent!.record.desired?.id, target.id);
  assert.is(box.agent!.record.manifest?.version, '1.1.0');
  await box.reboot();
  await driveToState(clock, () => box.agent, 'trial', 10);
  const queued = desiredFor(newer, server.url('newer'));
  link.desire(queued);
  await driveUntil(clock, () => link.last()?.queued?.id === queued.id, { stepMs: 0, what: 'queued report' });
  assert.is(box.agent!.state, 'trial');
  // After the commit the queued target starts at once, so `committed` can pass between two
  // polls: wait for the queued target to be taken up (the boot env below shows the commit).
  await driveUntil(clock, () => box.agent?.record.desired?.id === queued.id, { stepMs: 5_000, what: 'the queued target taken up after the commit' });
  await driveUntil(clock, () => box.board.rebootRequests.length === 2, { stepMs: 100, what: 'the queued target installs' });
  assert.is(box.agent!.record.desired?.id, queued.id);
  assert.equal(await readBootEnv(box.slotsRoot), { primary: 'b', armed: 'a', tries: 1 });
  await box.stopAgent();
});

test('an invalid target is reported, not acted on', async () => {
  const clock = new FakeClock(NIGHT);
  const link = new FakeLink();
  const box = await newBox('invalid', clock, link);
  await box.start();
  link.desire({ id: 'bad-1', version: 'one', url: 'x', size: -1, sha256: 'zz' });
  await driveUntil(clock, () => link.last()?.rejectedTarget !== null, { stepMs: 0, what: 'rejected target report' });
  const r = link.last()!.rejectedTarget!;
  assert.is(r.id, 'bad-1');
  assert.ok(r.errors.some((e) => e.path === 'version'));
  assert.is(box.agent!.state, 'idle');
  await box.stopAgent();
});

test.run();
