/**
 * `pgw fleet ota publish|status` against a real mosquitto with boxes
 * running their agents: publish to devices and to a group, follow the wave
 * with --until-done, and the error exits.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFleetOta } from '../../../ota/cli/run-fleet-ota.js';
import type { OtaCliIo } from '../../../ota/cli/io.js';
import { collectReported } from '../../../ota/fleet/mqtt.js';
import { otaTopics } from '../../../ota/protocol/topics.js';
import { makeBundle, makeKeys, tempDir } from '../../unit/ota/support/bundles.js';
import type { BuiltBundle } from '../../unit/ota/support/bundles.js';
import type { SimBox } from '../../unit/ota/support/sim-box.js';
import { startBundleServer, startWorld } from './support/world.js';
import type { BundleServer, World } from './support/world.js';

const keys = makeKeys();
let dir: Awaited<ReturnType<typeof tempDir>>;
let server: BundleServer;
let good: BuiltBundle;
let unsigned: BuiltBundle;
let world: World;

function io(extra: Partial<OtaCliIo> = {}): OtaCliIo & { stdout: string; stderr: string } {
  const o = { stdout: '', stderr: '', env: {}, out: (t: string) => void (o.stdout += t), err: (t: string) => void (o.stderr += t), ...extra };
  return o;
}

test.before(async () => {
  dir = await tempDir();
  server = await startBundleServer();
  good = await makeBundle({ dir: dir.path, version: '1.1.0', keys });
  unsigned = await makeBundle({ dir: dir.path, version: '1.1.1' });
  server.serve('good', good.path);
  await writeFile(join(dir.path, 'keys.pub'), keys.publicPem);
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

/** Reboots a box whenever its agent asks, until stopped. */
function rebootOnRequest(box: SimBox): () => void {
  let done = false;
  let handled = 0;
  void (async () => {
    while (!done) {
      if (box.board.rebootRequests.length > handled) {
        handled = box.board.rebootRequests.length;
        await box.reboot();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return () => (done = true);
}

test('publish to two devices, follow with status --until-done (exit 0), then a plain status table', async () => {
  const boxes = [await world.box('pgw-f1', keys), await world.box('pgw-f2', keys)];
  const stops = [];
  for (const b of boxes) {
    await b.start();
    stops.push(rebootOnRequest(b));
  }
  let c = io();
  const code = await runFleetOta(
    ['publish', '--broker', world.broker.url, '--bundle', good.path, '--url', server.url('good'), '--device', 'pgw-f1', '--device', 'pgw-f2', '--policy', 'now', '--pub', join(dir.path, 'keys.pub')],
    c,
  );
  assert.is(code, 0, c.stderr);
  assert.match(c.stdout, /published target 1\.1\.0-[0-9a-f]+ \(version 1\.1\.0, policy now, \d+ bytes\) to 2 devices: pgw-f1, pgw-f2/);
  c = io();
  assert.is(await runFleetOta(['status', '--broker', world.broker.url, '--device', 'pgw-f1', '--device', 'pgw-f2', '--until-done'], c), 0, c.stderr);
  assert.match(c.stdout, /pgw-f1 committed/);
  assert.match(c.stdout, /pgw-f2 committed/);
  for (const s of stops) s();
  c = io({ isTTY: true });
  assert.is(await runFleetOta(['status', '--broker', world.broker.url, '--settle-ms', '200'], c), 0, c.stderr);
  assert.match(c.stdout, /^DEVICE\s+STATE/);
  assert.match(c.stdout, /pgw-f1\s+committed\s+1\.1\.0\s+1\.1\.0 \(b\)/);
  c = io();
  assert.is(await runFleetOta(['status', '--broker', world.broker.url, '--json', '--device', 'pgw-f2'], c), 0);
  assert.is((JSON.parse(c.stdout) as Record<string, { state: string }>)['pgw-f2']?.state, 'committed');
});

test('--group from a groups file reaches only its members; --dry-run publishes nothing', async () => {
  const groups = join(dir.path, 'groups.json');
  await writeFile(groups, JSON.stringify({ groups: { 'wave-1': ['pgw-g1', 'pgw-g2'], 'wave-2': ['pgw-g3'] } }));
  let c = io();
  assert.is(await runFleetOta(['publish', '--broker', world.broker.url, '--bundle', good.path, '--url', server.url('good'), '--group', 'wave-1', '--groups', groups, '--dry-run'], c), 0, c.stderr);
  assert.match(c.stdout, /would publish .* to 2 devices: pgw-g1, pgw-g2/);
  c = io({ env: { PGW_FLEET_GROUPS: groups, PGW_FLEET_BROKER: world.broker.url } });
  assert.is(await runFleetOta(['publish', '--bundle', good.path, '--url', server.url('good'), '--group', 'wave-1', '--json', '--window', '{"allow":[{"from":"01:00","to":"05:00"}]}', '--timezone', 'Europe/London'], c), 0, c.stderr);
  const out = JSON.parse(c.stdout) as { devices: string[]; target: { window: unknown; policy: string } };
  assert.equal(out.devices, ['pgw-g1', 'pgw-g2']);
  assert.equal(out.target.window, { timezone: 'Europe/London', allow: [{ from: '01:00', to: '05:00' }] });
  // Retained targets: g1 and g2 have one, g3 none.
  const got = new Map<string, string>();
  world.fleet.on('message', (t, p) => got.set(t, p.toString()));
  await world.fleet.subscribeAsync(['pgw-g1', 'pgw-g2', 'pgw-g3'].map((d) => otaTopics(d).desired));
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(got.has(otaTopics('pgw-g1').desired) && got.has(otaTopics('pgw-g2').desired));
  assert.not.ok(got.has(otaTopics('pgw-g3').desired));
  c = io();
  assert.is(await runFleetOta(['publish', '--broker', world.broker.url, '--bundle', good.path, '--url', server.url('good'), '--group', 'nope', '--groups', groups], c), 1);
  assert.match(c.stderr, /no group "nope"/);
});

test('group "all" is every box on the broker', async () => {
  const b = await world.box('pgw-all-1', keys);
  await b.start();
  await world.waitFor('pgw-all-1', (r) => r.state === 'idle', 'idle');
  const c = io();
  assert.is(await runFleetOta(['publish', '--broker', world.broker.url, '--bundle', good.path, '--url', server.url('good'), '--group', 'all', '--dry-run'], c), 0, c.stderr);
  assert.match(c.stdout, /to 1 device: pgw-all-1/);
});

test('errors: unsigned bundle 1, unreachable broker 3, usage 2', async () => {
  let c = io();
  assert.is(await runFleetOta(['publish', '--broker', world.broker.url, '--bundle', unsigned.path, '--url', server.url('x'), '--device', 'd1'], c), 1);
  assert.match(c.stderr, /not signed/);
  c = io();
  assert.is(await runFleetOta(['publish', '--broker', 'mqtt://127.0.0.1:1', '--bundle', good.path, '--url', server.url('good'), '--device', 'd1'], c), 3);
  c = io();
  assert.is(await runFleetOta(['status', '--broker', 'mqtt://127.0.0.1:1'], c), 3);
  c = io();
  assert.is(await runFleetOta(['publish', '--broker', world.broker.url, '--bundle', good.path, '--url', server.url('good')], c), 2);
  c = io();
  assert.is(await runFleetOta(['publish', '--broker', world.broker.url, '--bundle', good.path, '--url', server.url('good'), '--device', 'd1', '--policy', 'defer-until'], c), 2);
  c = io();
  assert.is(await runFleetOta(['status'], c), 2);
  const retained = await collectReported(world.fleet, { deviceIds: ['d1'], settleMs: 100, maxMs: 300 });
  assert.is(retained.size, 0);
});

test.run();
