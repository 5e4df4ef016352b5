/**
 * The agent end to end in one process, on a FakeClock: a real HTTP server
 * on 127.0.0.1, `file` slots with the simulated boot loader, a fake MQTT
 * link. The window, call and trial timings run on the fake clock.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { readBootEnv, simulateBoot } from '../../../../hw/slots/file-backend.js';
import { startBundleServer } from '../support/bundle-server.js';
import type { BundleServer } from '../support/bundle-server.js';
import { desiredFor, makeBundle, makeKeys, tempDir } from '../support/bundles.js';
import type { BuiltBundle } from '../support/bundles.js';
import { driveToState, driveUntil } from '../support/agent-drive.js';
import type { SimBox} from '../support/sim-box.js';
import { FakeLink, startSimBox } from '../support/sim-box.js';

const keys = makeKeys();
const TUNING = {
  soakMs: 60_000,
  healthIntervalMs: 10_000,
  trialTimeoutMs: 300_000,
  rebootHoldMs: 90_000,
  reserveBytes: 0,
  download: { minBackoffMs: 1_000, maxBackoffMs: 4_000, checkpointBytes: 64 * 1024 },
};
// Monday 8 January 2024, 12:00 GMT: inside core hours.
const MONDAY_NOON = Date.parse('2024-01-08T12:00:00Z');

let dir: Awaited<ReturnType<typeof tempDir>>;
let server: BundleServer;
let good: BuiltBundle;
let sick: BuiltBundle;

test.before(async () => {
  dir = await tempDir();
  server = await startBundleServer();
  good = await makeBundle({ dir: dir.path, version: '1.1.0', keys, imageSize: 200_000 });
  sick = await makeBundle({ dir: dir.path, version: '1.2.0', keys, healthy: false, imageSize: 100_000 });
  server.serve('good', good.path);
  server.serve('sick', sick.path);
});

test.after(async () => {
  await server.close();
  await dir.remove();
});

function newBox(name: string, clock: FakeClock, link: FakeLink): Promise<SimBox> {
  return startSimBox(name, { clock, link, trustedKeys: [keys.trusted], tuning: TUNING });
}

test('policy window: downloads at once, waits for 18:30 London, installs, reboots on trial, soaks, commits', async () => {
  const clock = new FakeClock(MONDAY_NOON);
  const link = new FakeLink();
  const box = await newBox('window', clock, link);
  await box.start();
  assert.is(link.last()?.state, 'idle');
  link.desire(desiredFor(good, server.url('good'), { policy: 'window' }));
  await driveToState(clock, () => box.agent, 'waiting-window', 10);
  await driveUntil(clock, () => link.last()?.waiting !== null, { stepMs: 0, what: 'the waiting report' });
  const w = link.last()!;
  assert.is(w.waiting?.for, 'window');
  assert.is(w.waiting?.until, '2024-01-08T18:30:00.000Z');
  assert.ok(w.preconditions?.every((p) => p.ok));
  assert.is(box.board.rebootRequests.length, 0);
  // Nothing happens before 18:30.
  clock.advance(Date.parse('2024-01-08T18:29:00Z') - clock.now());
  await new Promise((r) => setTimeout(r, 50));
  assert.is(box.agent!.state, 'waiting-window');
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { stepMs: 30_000, what: 'reboot request' });
  assert.is(box.agent!.state, 'rebooting');
  assert.ok(clock.now() >= Date.parse('2024-01-08T18:30:00Z'));
  assert.equal(await readBootEnv(box.slotsRoot), { primary: 'a', armed: 'b', tries: 1 });
  assert.is(box.calls.holds.length, 1);
  assert.is(box.calls.holds[0]!.ms, 90_000);

  await box.reboot();
  assert.is((await box.bootedImage()).version, '1.1.0');
  await driveToState(clock, () => box.agent, 'trial', 10);
  const soakStart = clock.now();
  await driveToState(clock, () => box.agent, 'committed', 5_000);
  assert.ok(clock.now() - soakStart >= 60_000, 'soaked for soakMs');
  assert.ok(box.healthChecks >= 7);
  assert.equal(await readBootEnv(box.slotsRoot), { primary: 'b', armed: null, tries: 0 });
  await box.agent!.flushReport();
  const last = link.last()!;
  assert.is(last.state, 'committed');
  assert.equal(last.running, { version: '1.1.0', slot: 'b' });
  assert.is(last.reason, null);
  assert.equal(link.states(), ['idle', 'checking', 'downloading', 'verifying', 'waiting-window', 'waiting-idle', 'installing', 'rebooting', 'trial', 'committed']);
  // The retained target delivered again on reconnect starts nothing.
  link.reconnect();
  await new Promise((r) => setTimeout(r, 30));
  assert.is(box.agent!.state, 'committed');
  await box.stopAgent();
});

test('calls up: the install waits for them, then holds new calls only for the reboot', async () => {
  const clock = new FakeClock(Date.parse('2024-01-08T22:00:00Z'));
  const link = new FakeLink();
  const box = await newBox('calls', clock, link);
  box.calls.active = 2;
  await box.start();
  link.desire(desiredFor(good, server.url('good'), { policy: 'window' }));
  await driveToState(clock, () => box.agent, 'waiting-idle', 10);
  await driveUntil(clock, () => link.last()?.waiting?.for === 'calls', { what: 'waiting for calls' });
  assert.is(link.last()!.waiting!.activeCalls, 2);
  clock.advance(600_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.is(box.agent!.state, 'waiting-idle');
  assert.is(box.calls.holds.length, 0, 'no hold while calls are up');
  box.calls.active = 0;
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { what: 'reboot' });
  assert.is(box.calls.holds.length, 1);
  assert.is(box.calls.holds[0]!.activeAtHold, 0);
  await box.stopAgent();
});

test('an image that fails its health check is rolled back after the trial time, and says why', async () => {
  const clock = new FakeClock(Date.parse('2024-01-08T22:00:00Z'));
  const link = new FakeLink();
  const box = await newBox('sick', clock, link);
  await box.start();
  link.desire(desiredFor(sick, server.url('sick')));
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { stepMs: 100, what: 'reboot' });
  await box.reboot();
  await driveToState(clock, () => box.agent, 'rolling-back', 10_000);
  await driveUntil(clock, () => box.board.rebootRequests.length === 2, { what: 'rollback reboot' });
  assert.equal(await readBootEnv(box.slotsRoot), { primary: 'a', armed: null, tries: 0 });
  await box.reboot();
  await driveToState(clock, () => box.agent, 'rolled-back', 10);
  await box.agent!.flushReport();
  const last = link.last()!;
  assert.is(last.state, 'rolled-back');
  assert.is(last.reason?.code, 'health-check-failed');
  assert.match(last.reason!.message, /sip: no answer/);
  assert.equal(last.running, { version: '1.0.0', slot: 'a' });
  // Not retried by itself, even across restarts and redeliveries.
  await box.reboot();
  link.reconnect();
  clock.advance(3_600_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.is(box.agent!.state, 'rolled-back');
  // The admin issues it again (new id): it is tried again.
  link.desire(desiredFor(sick, server.url('sick')));
  await driveUntil(clock, () => box.agent!.state !== 'rolled-back', { what: 'retry' });
  await box.stopAgent();
});

test('the new slot never comes up (boot loader falls back): rolled-back with boot-fallback', async () => {
  const clock = new FakeClock(Date.parse('2024-01-08T22:00:00Z'));
  const link = new FakeLink();
  const box = await newBox('fallback', clock, link);
  await box.start();
  link.desire(desiredFor(good, server.url('good')));
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { stepMs: 100, what: 'reboot' });
  await box.stopAgent();
  // The trial boot panics before the gateway starts; the watchdog reboots; the boot loader goes back to a.
  await simulateBoot(box.slotsRoot);
  await simulateBoot(box.slotsRoot);
  await box.start();
  await driveToState(clock, () => box.agent, 'rolled-back', 10);
  const r = box.agent!.record;
  assert.is(r.reason?.code, 'boot-fallback');
  assert.equal(await readBootEnv(box.slotsRoot), { primary: 'a', armed: null, tries: 0 });
  await box.stopAgent();
});

test.run();
