import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deviceIdOfTopic, deviceTopics, fleetFilter } from '../../../firmware/src/sync/topics.js';
import { collectSecrets, scrubProblems, scrubText } from '../../../firmware/src/sync/secret-scrub.js';
import { canonicalJson } from '../../../firmware/src/sync/canonical-json.js';

test('topics follow CONTRACT.md under pgw/v1/{deviceId}/', () => {
  const t = deviceTopics('pgw-0001');
  assert.is(t.configDesired, 'pgw/v1/pgw-0001/config/desired');
  assert.is(t.configReported, 'pgw/v1/pgw-0001/config/reported');
  assert.is(t.status, 'pgw/v1/pgw-0001/status');
  assert.is(t.telemetry, 'pgw/v1/pgw-0001/telemetry');
  assert.is(t.events, 'pgw/v1/pgw-0001/events');
  assert.is(t.cdr, 'pgw/v1/pgw-0001/cdr');
  assert.is(t.commandFilter, 'pgw/v1/pgw-0001/cmd/+');
  assert.is(t.command('get-diagnostics'), 'pgw/v1/pgw-0001/cmd/get-diagnostics');
  assert.is(t.commandName('pgw/v1/pgw-0001/cmd/reload-config'), 'reload-config');
  assert.is(t.commandName('pgw/v1/other/cmd/reload-config'), undefined);
  assert.is(t.commandName('pgw/v1/pgw-0001/cmd/'), undefined);
  assert.is(t.commandName('pgw/v1/pgw-0001/cmd/a/b'), undefined);
  assert.is(fleetFilter('status'), 'pgw/v1/+/status');
  assert.is(deviceIdOfTopic('pgw/v1/box-7/status'), 'box-7');
  assert.is(deviceIdOfTopic('other/v1/box-7/status'), undefined);
});

test('secret values are found by field name anywhere and scrubbed from text', () => {
  const doc = { extensions: [{ password: 'hunter2-long' }], voicemail: { pin: '123456' }, uplinks: { trunks: [{ password: 'tr-pw-99' }] }, name: 'password' };
  const s = collectSecrets(doc);
  assert.equal(s.sort(), ['123456', 'hunter2-long', 'tr-pw-99']);
  assert.is(scrubText('auth failed with hunter2-long via tr-pw-99', s), 'auth failed with *** via ***');
  const long = scrubProblems([{ path: 'p', message: 'x'.repeat(1000) }], s);
  assert.ok(long[0]!.message.length <= 300);
  const many = scrubProblems(Array.from({ length: 150 }, (_, i) => ({ path: `p${i}`, message: 'm' })), s);
  assert.is(many.length, 101);
  assert.match(many[100]!.message, /50 more/);
});

test('canonical JSON ignores key order, keeps array order, drops undefined', () => {
  assert.is(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } }), '{"a":{"d":[2,1]},"b":1}');
});

test.run();
