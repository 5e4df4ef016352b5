import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateGatewayFile } from '../../../firmware/src/config/index.js';
import type { ConfigProblem } from '../../../firmware/src/config/index.js';
import { minimalPractice } from './practice-fixture.js';
import type { Json } from './practice-fixture.js';

function errorsOf(json: Json): ConfigProblem[] {
  const r = validateGatewayFile(json);
  if (r.ok) assert.unreachable('expected the file to be rejected');
  return r.ok ? [] : r.errors;
}

test('device.id is required and must be safe in an MQTT topic', () => {
  assert.ok(errorsOf({ device: {} }).some((e) => e.path === 'device.id' && e.message === 'required'));
  for (const id of ['a/b', 'box+1', '#', '']) {
    assert.ok(errorsOf({ device: { id } }).some((e) => e.path === 'device.id'), id);
  }
});

test('device is required', () => {
  assert.equal(errorsOf({ practice: minimalPractice() }), [{ path: 'device', message: 'required' }]);
});

test('admin.listen must be host:port', () => {
  for (const listen of ['8080', 'localhost', '127.0.0.1:99999', '::1:8080']) {
    assert.ok(errorsOf({ device: { id: 'x', admin: { listen } } }).some((e) => e.path === 'device.admin.listen'), listen);
  }
  for (const listen of ['[::1]:8080', '0.0.0.0:80', 'localhost:0']) {
    assert.ok(validateGatewayFile({ device: { id: 'x', admin: { listen } } }).ok, listen);
  }
});

test('cloud.mqtt: defaults, URL scheme and paired credentials', () => {
  const ok = validateGatewayFile({ device: { id: 'x', cloud: { mqtt: { url: 'mqtt://127.0.0.1:1883' } } } });
  assert.ok(ok.ok);
  if (ok.ok) {
    assert.is(ok.value.device.cloud?.mqtt.keepaliveSeconds, 30);
    assert.equal(ok.value.device.cloud?.mqtt.reconnect, { minMs: 1000, maxMs: 60000 });
    assert.is(ok.value.device.cloud?.statusIntervalSeconds, 60);
  }
  const errors = errorsOf({
    device: { id: 'x', cloud: { mqtt: { url: 'http://broker', cert: '/c.pem', password: 'pw', reconnect: { minMs: 5, maxMs: 1 } } } },
  });
  assert.ok(errors.some((e) => e.path === 'device.cloud.mqtt.url'));
  // The URL error stops the cross-field checks; fix it and they run.
  const errors2 = errorsOf({
    device: { id: 'x', cloud: { mqtt: { url: 'mqtts://broker:8883', cert: '/c.pem', password: 'pw', reconnect: { minMs: 5, maxMs: 1 } } } },
  });
  assert.equal(
    errors2.map((e) => e.path).sort(),
    ['device.cloud.mqtt', 'device.cloud.mqtt.reconnect.minMs', 'device.cloud.mqtt.username'],
  );
});

test('practice errors in a gateway file carry the practice prefix', () => {
  const p = minimalPractice();
  p.extensions[1].number = '201';
  const errors = errorsOf({ device: { id: 'x' }, practice: p });
  assert.equal(errors, [{ path: 'practice.extensions[1].number', message: '201 is already used by extensions[0]' }]);
});

test('unknown top-level fields are reported; $schema is allowed', () => {
  assert.equal(errorsOf({ device: { id: 'x' }, devise: {} }), [{ path: 'devise', message: 'unknown field' }]);
  assert.ok(validateGatewayFile({ $schema: '../docs/config.schema.json', device: { id: 'x' } }).ok);
});

test('modem.dataProbe: defaults, host and port checked, the timeout shorter than the interval', () => {
  const ok = validateGatewayFile({ device: { id: 'x', board: 'rpi4-poe', modem: { dataProbe: { host: '192.0.2.10', port: 5060 } } } });
  assert.ok(ok.ok);
  if (ok.ok) assert.equal(ok.value.device.modem?.dataProbe, { host: '192.0.2.10', port: 5060, intervalSeconds: 30, timeoutSeconds: 8, failAfter: 3 });
  for (const host of ['sip.carrier.example', '2001:db8::1']) assert.ok(validateGatewayFile({ device: { id: 'x', modem: { dataProbe: { host, port: 5060 } } } }).ok, host);
  assert.ok(errorsOf({ device: { id: 'x', modem: { dataProbe: { host: 'not a host!', port: 5060 } } } }).some((e) => e.path === 'device.modem.dataProbe.host'));
  assert.ok(errorsOf({ device: { id: 'x', modem: { dataProbe: { host: '192.0.2.10', port: 0 } } } }).some((e) => e.path === 'device.modem.dataProbe.port'));
  assert.ok(errorsOf({ device: { id: 'x', modem: { dataProbe: { host: '192.0.2.10' } } } }).some((e) => e.path === 'device.modem.dataProbe.port'));
  assert.equal(errorsOf({ device: { id: 'x', modem: { dataProbe: { host: '192.0.2.10', port: 80, intervalSeconds: 5, timeoutSeconds: 5 } } } }), [
    { path: 'device.modem.dataProbe.timeoutSeconds', message: 'must be less than intervalSeconds (5)' },
  ]);
  assert.ok(errorsOf({ device: { id: 'x', modem: { probe: {} } } }).some((e) => e.path === 'device.modem.probe'));
});

test.run();
