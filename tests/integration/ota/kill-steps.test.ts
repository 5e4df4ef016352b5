/**
 * The agent is killed (SIGKILL) at every step of the state machine, right
 * after the step was persisted, and recovers: the update still commits,
 * with the boot loader and ota/reported telling the truth.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredFor, makeBundle, makeKeys, tempDir } from '../../unit/ota/support/bundles.js';
import type { BuiltBundle } from '../../unit/ota/support/bundles.js';
import type { OtaState } from '../../../ota/agent/states.js';
import { runScenario } from './support/kill-harness.js';
import { startBundleServer, startWorld } from './support/world.js';
import type { BundleServer, World } from './support/world.js';

const keys = makeKeys();
let dir: Awaited<ReturnType<typeof tempDir>>;
let server: BundleServer;
let good: BuiltBundle;
let world: World;

test.before(async () => {
  dir = await tempDir();
  server = await startBundleServer();
  good = await makeBundle({ dir: dir.path, version: '1.1.0', keys, imageSize: 600_000 });
  server.serve('good', good.path);
});

test.after(async () => {
  await server.close();
  await dir.remove();
});

test.before.each(async () => {
  world = await startWorld();
});

test.after.each(async () => {
  await world.close();
});

const STEPS: OtaState[] = ['checking', 'downloading', 'verifying', 'waiting-window', 'waiting-idle', 'installing', 'rebooting', 'trial'];

for (const step of STEPS) {
  test(`killed in ${step}: recovers and commits`, async () => {
    const name = `pgw-kill-${step}`;
    const r = await runScenario(world, {
      name,
      keys,
      target: () => world.publish(name, desiredFor(good, server.url('good'))),
      pauseAt: [step],
      expect: 'committed',
    });
    assert.is(r.pausedAt, step);
    assert.equal(r.final.running, { version: '1.1.0', slot: 'b' });
    assert.equal(r.bootEnv, { primary: 'b', armed: null, tries: 0 });
    // The state the agent died in was reported, and reported again (truthfully) by the next agent.
    const states = (world.reports.get(name) ?? []).map((x) => x.state);
    assert.ok(states.includes(step));
  });
}

test.run();
