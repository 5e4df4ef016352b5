/**
 * Kills in the middle of the long steps, and power cuts (the boot loader
 * runs before the next start): the agent resumes or rolls back cleanly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredFor, makeBundle, makeKeys, tempDir } from '../../unit/ota/support/bundles.js';
import type { BuiltBundle } from '../../unit/ota/support/bundles.js';
import { runScenario } from './support/kill-harness.js';
import { startBundleServer, startWorld } from './support/world.js';
import type { BundleServer, World } from './support/world.js';

const keys = makeKeys();
let dir: Awaited<ReturnType<typeof tempDir>>;
let server: BundleServer;
let good: BuiltBundle;
let sick: BuiltBundle;
let world: World;

test.before(async () => {
  dir = await tempDir();
  server = await startBundleServer();
  good = await makeBundle({ dir: dir.path, version: '1.1.0', keys, imageSize: 900_000 });
  sick = await makeBundle({ dir: dir.path, version: '1.2.0', keys, healthy: false });
  server.serve('good', good.path);
  server.serve('sick', sick.path);
});

test.after(async () => {
  await server.close();
  await dir.remove();
});

test.before.each(async () => {
  for (const k of Object.keys(server.behaviour)) delete (server.behaviour as Record<string, unknown>)[k];
  server.requests.length = 0;
  world = await startWorld();
});

test.after.each(async () => {
  await world.close();
});

test('killed half-way through the download: the next agent resumes with Range from its checkpoint', async () => {
  server.behaviour.rateBytesPerSec = 700_000;
  const name = 'pgw-mid-download';
  const r = await runScenario(world, {
    name,
    keys,
    target: () => world.publish(name, desiredFor(good, server.url('good'))),
    killWhen: (x) => x.progress?.phase === 'download' && x.progress.percent >= 40,
    expect: 'committed',
  });
  assert.is(r.pausedAt, 'kill-watch');
  const resumed = server.requests.filter((q) => /^bytes=[1-9]\d*-$/.test(q.range ?? ''));
  assert.ok(resumed.length >= 1, `a ranged resume: ${JSON.stringify(server.requests)}`);
  const full = server.requests.filter((q) => q.range === 'bytes=0-');
  assert.is(full.length, 1, 'the download did not start over');
});

test('power cut half-way through writing the slot: the half-written slot is never booted, and is written again', async () => {
  const name = 'pgw-mid-install';
  const r = await runScenario(world, {
    name,
    keys,
    target: () => world.publish(name, desiredFor(good, server.url('good'))),
    pauseInstallAt: 0.4,
    powerCut: true,
    expect: 'committed',
  });
  assert.match(r.pausedAt ?? '', /^install:/);
  assert.equal(r.final.running, { version: '1.1.0', slot: 'b' });
});

test('power cut just before the reboot (trial not armed): not mistaken for a failed boot; it commits', async () => {
  const name = 'pgw-cut-rebooting';
  const r = await runScenario(world, {
    name,
    keys,
    target: () => world.publish(name, desiredFor(good, server.url('good'))),
    pauseAt: ['rebooting'],
    powerCut: true,
    expect: 'committed',
  });
  assert.is(r.pausedAt, 'rebooting');
  const states = (world.reports.get(name) ?? []).map((x) => x.state);
  assert.not.ok(states.includes('rolled-back'));
});

test('power cut during the trial: the one-shot trial is spent, the boot loader goes back, and it is reported as rolled back', async () => {
  const name = 'pgw-cut-trial';
  const r = await runScenario(world, {
    name,
    keys,
    target: () => world.publish(name, desiredFor(good, server.url('good'))),
    pauseAt: ['trial'],
    powerCut: true,
    expect: 'rolled-back',
  });
  assert.is(r.final.reason?.code, 'trial-reboot');
  assert.equal(r.final.running, { version: '1.0.0', slot: 'a' });
  assert.equal(r.bootEnv, { primary: 'a', armed: null, tries: 0 });
});

test('killed while rolling back a sick image: the rollback finishes', async () => {
  const name = 'pgw-kill-rollback';
  const r = await runScenario(world, {
    name,
    keys,
    target: () => world.publish(name, desiredFor(sick, server.url('sick'))),
    pauseAt: ['rolling-back'],
    expect: 'rolled-back',
  });
  assert.is(r.pausedAt, 'rolling-back');
  assert.is(r.final.reason?.code, 'health-check-failed');
  assert.equal(r.final.running, { version: '1.0.0', slot: 'a' });
  assert.equal(r.bootEnv, { primary: 'a', armed: null, tries: 0 });
});

test.run();
