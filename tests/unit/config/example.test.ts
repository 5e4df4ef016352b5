import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateGatewayFile, GENERIC_BOARD } from '../../../firmware/src/config/index.js';
import { readExample } from './practice-fixture.js';

test('the shared example gateway file validates', () => {
  const r = validateGatewayFile(readExample());
  if (!r.ok) assert.unreachable(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
});

test('the example keeps what it says and gains the defaults', () => {
  const r = validateGatewayFile(readExample());
  assert.ok(r.ok);
  if (!r.ok) return;
  const { device, practice } = r.value;
  assert.is(device.id, 'pgw-0001');
  assert.is(device.board, 'rpi4-poe');
  assert.is(device.admin.listen, '0.0.0.0:8080');
  assert.is(device.cloud?.mqtt.url, 'mqtts://mqtt.cloud.example:8883');
  assert.ok(practice);
  if (!practice) return;
  assert.is(practice.extensions.length, 7);
  assert.is(practice.huntGroups[1]?.strategy, 'sequential');
  assert.is(practice.huntGroups[1]?.ringSeconds, 15);
  assert.is(practice.uplinks?.cloud?.mode, 'trunk');
  assert.equal(practice.uplinks?.cloud?.probe, { intervalMs: 1000, failAfter: 2, recoverAfterMs: 30000 });
  assert.is(practice.uplinks?.trunks[0]?.interface, 'wan');
  assert.equal(practice.emergency.numbers, ['999', '112']);
  assert.is(practice.sip.rtp.timeoutSeconds, 60);
});

test('a gateway file with only a device id gets every device default', () => {
  const r = validateGatewayFile({ device: { id: 'box-1' } });
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.value.device, { id: 'box-1', board: GENERIC_BOARD, admin: { listen: '127.0.0.1:8080' }, media: { workers: 'auto', kernelForwarding: 'auto' } });
  assert.is(r.value.practice, undefined);
  assert.is(r.value.device.cloud, undefined);
  assert.is(r.value.device.interfaces, undefined);
});

test.run();
