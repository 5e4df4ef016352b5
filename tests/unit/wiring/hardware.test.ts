/**
 * The gateway's hardware glue (firmware/src/wiring/hardware.ts): the board
 * it resolves, what a box without devices offers, the modem as the link of
 * the role that leaves by it, and the watchdog keeper's health check.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceSchema } from '../../../firmware/src/config/index.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { claimCodeReader, gatewayHealthy, otaView, resolveBoard, startGatewayHardware } from '../../../firmware/src/wiring/hardware.js';

const logger = silentLogger();
const device = (extra: Record<string, unknown>) => DeviceSchema.parse({ id: 'pgw-test', admin: { listen: '127.0.0.1:0' }, ...extra });

test('the board: by name, dev-sim in PGW_SIM_DIR, an unknown name runs as generic', () => {
  assert.is(resolveBoard('x86-poe', {}, logger).name, 'x86-poe');
  assert.is(resolveBoard('dev-sim', {}, logger).panel?.path, '/run/pgw-sim/panel');
  assert.is(resolveBoard('dev-sim', { PGW_SIM_DIR: '/tmp/rig' }, logger).panel?.path, '/tmp/rig/panel');
  assert.is(resolveBoard('no-such-board', {}, logger).name, 'generic');
});

test('a generic box: no devices, no ports, the routing table watches the links', async () => {
  const hw = await startGatewayHardware({ device: device({}), clock: new FakeClock(), logger, env: {} });
  try {
    assert.is(hw.linkFor('wan'), null);
    assert.is(await hw.ports(), null);
    const v = hw.view();
    assert.is(v.board, 'generic');
    assert.is(v.modem, null);
    assert.is(v.panel, null);
    assert.is(v.poe, false);
    assert.is(v.watchdog, null, 'no keeper before bind');
  } finally {
    await hw.stop();
  }
});

test('the role whose interface is the modem reads the modem; missing serial devices are left out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-hwwire-'));
  const hw = await startGatewayHardware({ device: device({ board: 'dev-sim', interfaces: { wan: 'lo' } }), clock: new FakeClock(), logger, env: { PGW_SIM_DIR: dir } });
  try {
    const link = hw.linkFor('wan');
    assert.ok(link);
    assert.is(link.description, '4G modem (lo)');
    assert.is(link.current(), 'down', 'the modem has not answered');
    assert.is(hw.linkFor('hscn'), null);
    assert.is(hw.view().panel, null, 'no panel on the pty path');
    assert.is(hw.view().poe, false);
    assert.ok(hw.view().modem);
  } finally {
    await hw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watchdog health: SIP listening, the admin API answering, the data directory writable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-hwhealth-'));
  let answer = 200;
  const server = createServer((_req, res) => {
    res.statusCode = answer;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const adminUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const ok = { sipListening: () => 1, adminUrl, dataDir: dir };
    assert.is(await gatewayHealthy(ok), true);
    assert.is(await gatewayHealthy({ ...ok, sipListening: () => 0 }), false);
    answer = 503;
    assert.is(await gatewayHealthy(ok), false);
    answer = 200;
    assert.is(await gatewayHealthy({ ...ok, dataDir: join(dir, 'missing') }), false);
    if (process.getuid?.() !== 0) {
      chmodSync(dir, 0o500);
      assert.is(await gatewayHealthy(ok), false, 'read-only data directory');
      chmodSync(dir, 0o700);
    }
    await new Promise<void>((r) => server.close(() => r()));
    assert.is(await gatewayHealthy(ok), false, 'admin API gone');
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the panel shows an update only while one runs', () => {
  assert.is(otaView(null), null);
  assert.is(otaView({ state: 'idle', target: null, progress: null }), null);
  assert.equal(otaView({ state: 'downloading', target: { version: '1.2.0' }, progress: { percent: 42 } }), { state: 'downloading', version: '1.2.0', percent: 42 });
  assert.equal(otaView({ state: 'trial', target: { version: '1.2.0' }, progress: null }), { state: 'trial', version: '1.2.0' });
});

test('the claim code from first boot, until the box is claimed; re-read every 30 s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-claim-'));
  const clock = new FakeClock();
  try {
    const claim = claimCodeReader(dir, clock);
    assert.is(await claim.read(), null, 'no identity yet');
    writeFileSync(join(dir, 'claim-code'), 'K7QX-M2PD\n');
    assert.is(await claim.read(), null, 'cached');
    clock.advance(30_000);
    assert.is(await claim.read(), 'K7QX-M2PD');
    writeFileSync(join(dir, 'claimed'), '');
    clock.advance(30_000);
    assert.is(await claim.read(), null, 'claimed: the panel goes home to the mode page');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
