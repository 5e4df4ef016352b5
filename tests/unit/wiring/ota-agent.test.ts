import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firmwareVersion, PACKAGE_NAME } from '../../../firmware/src/cli/version.js';
import { DeviceSchema, validateGatewayFile } from '../../../firmware/src/config/index.js';
import { SystemClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { startGatewayOta } from '../../../firmware/src/wiring/ota-agent.js';
import { FileSlotBackend, initFileSlots } from '../../../hw/slots/file-backend.js';
import { FIRMWARE_PACKAGE_IN_ROOTFS, REBOOT_REQUEST_FILE } from '../../../ota/agent/simulated-board.js';
import { tempDir } from '../ota/support/bundles.js';

const cloud = { mqtt: { url: 'mqtt://127.0.0.1:1' } };
const opts = (dataDir: string, device: unknown) => ({
  device: DeviceSchema.parse(device),
  dataDir,
  siteTimezone: 'Europe/London',
  clock: new SystemClock(),
  logger: silentLogger(),
  stopProcess: () => assert.unreachable('no reboot here'),
});

test('without device.cloud no agent runs and no slot files are made', async () => {
  const t = await tempDir();
  try {
    const ota = await startGatewayOta(opts(t.path, { id: 'box-1' }));
    assert.is(ota.agent, null);
    assert.equal(ota.firmware, { version: firmwareVersion(), slot: 'a' });
    assert.not.ok(existsSync(join(t.path, 'slots-sim')));
    await ota.stop();
  } finally {
    await t.remove();
  }
});

test("with device.cloud on the generic board: the agent runs over the board's file slots, and the slot is theirs", async () => {
  const t = await tempDir();
  try {
    // generic: image slots under DATA/slots-sim; say it booted b.
    await initFileSlots(join(t.path, 'slots-sim'), { layout: 'image', primary: 'b' });
    const ota = await startGatewayOta(opts(t.path, { id: 'box-2', cloud, ota: { trustedKeys: [join(t.path, 'no-keys')] } }));
    assert.ok(ota.agent, 'the agent runs even without trusted keys (every target is then refused)');
    assert.is(ota.agent!.state, 'idle');
    assert.equal(ota.firmware, { version: firmwareVersion(), slot: 'b' });
    assert.equal(ota.agent!.report().running, { version: firmwareVersion(), slot: 'b' });
    await ota.stop();
  } finally {
    await t.remove();
  }
});

test('the simulated board boots the armed slot after a reboot request and runs the version that slot holds', async () => {
  const t = await tempDir();
  try {
    const root = join(t.path, 'slots-sim');
    await initFileSlots(root, { layout: 'dir' });
    const pkg = join(root, 'slots/b', FIRMWARE_PACKAGE_IN_ROOTFS);
    mkdirSync(join(pkg, '..'), { recursive: true });
    writeFileSync(pkg, JSON.stringify({ name: PACKAGE_NAME, version: '77.0.0' }));
    await new FileSlotBackend({ root, layout: 'dir' }).arm('b');
    writeFileSync(join(root, REBOOT_REQUEST_FILE), '{"reason":"test"}\n');
    // No cloud, so no agent (which would find no OTA record for this trial and roll back): the boot alone.
    const ota = await startGatewayOta(opts(t.path, { id: 'box-3', ota: { slots: 'file-dir', board: 'simulated' } }));
    assert.is(ota.agent, null);
    assert.equal(ota.firmware, { version: '77.0.0', slot: 'b' });
    assert.not.ok(existsSync(join(root, REBOOT_REQUEST_FILE)));
    await ota.stop();
  } finally {
    await t.remove();
  }
});

test('an unknown board leaves the gateway running without updates', async () => {
  const t = await tempDir();
  try {
    const ota = await startGatewayOta(opts(t.path, { id: 'box-4', board: 'no-such-board', cloud }));
    assert.is(ota.agent, null);
    assert.equal(ota.firmware, { version: firmwareVersion(), slot: process.env.PGW_SLOT ?? 'a' });
  } finally {
    await t.remove();
  }
});

test('device.ota is checked across fields', () => {
  const problems = (ota: Record<string, unknown>) => {
    const r = validateGatewayFile({ device: { id: 'x', ota } });
    return r.ok ? [] : r.errors.map((e) => e.path);
  };
  assert.equal(problems({}), []);
  assert.equal(problems({ soakSeconds: 600, trialTimeoutSeconds: 600 }), ['device.ota.trialTimeoutSeconds']);
  assert.equal(problems({ board: 'simulated' }), ['device.ota.slots']);
  assert.equal(problems({ board: 'simulated', slots: 'file-image' }), []);
  assert.equal(problems({ trustedKeys: ['relative/dir'] }), ['device.ota.trustedKeys[0]']);
  assert.equal(problems({ slots: 'grub' }), ['device.ota.slots']);
});

test.run();
