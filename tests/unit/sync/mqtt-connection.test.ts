import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MqttClient } from 'mqtt';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { isPgwError } from '../../../firmware/src/util/errors.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { MqttSchema } from '../../../firmware/src/config/device-schema.js';
import { MqttConnection, redactUrl } from '../../../firmware/src/sync/mqtt-connection.js';
import { FakeMqttClient } from './support/fake-mqtt-client.js';

const tick = () => new Promise((r) => setImmediate(r));

function setup(over: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const clients: FakeMqttClient[] = [];
  const mqtt = MqttSchema.parse({ url: 'mqtt://user:pw@127.0.0.1:1883', reconnect: { minMs: 1000, maxMs: 8000 }, ...over });
  const conn = new MqttConnection({
    mqtt,
    clientId: 'box-1',
    will: { topic: 'pgw/v1/box-1/status', payload: '{"online":false}' },
    clock,
    logger: silentLogger(),
    random: () => 0.999999, // delays at the top of each jitter range: easy to read
    stableAfterMs: 10_000,
    connectFn: (_url, options) => {
      const c = new FakeMqttClient(options);
      clients.push(c);
      return c as unknown as MqttClient;
    },
  });
  return { clock, clients, conn };
}

test('connects with MQTT 5, clean start false, session expiry, the retained Will, and no mqtt.js reconnect', async () => {
  const { conn, clients } = setup();
  conn.start();
  await tick();
  assert.is(conn.state, 'connecting');
  const o = clients[0]!.options;
  assert.is(o.protocolVersion, 5);
  assert.is(o.clean, false);
  assert.is(o.reconnectPeriod, 0);
  assert.is(o.clientId, 'box-1');
  assert.is(o.properties?.sessionExpiryInterval, 604800);
  assert.equal({ ...o.will, payload: o.will!.payload.toString() }, { topic: 'pgw/v1/box-1/status', payload: '{"online":false}', qos: 1, retain: true });
  clients[0]!.accept({ receiveMaximum: 20 });
  assert.is(conn.state, 'connected');
});

test('failed attempts back off exponentially up to the cap, on the injected clock', async () => {
  const { conn, clients, clock } = setup();
  conn.start();
  await tick();
  const gaps: number[] = [];
  for (let i = 0; i < 6; i++) {
    clients.at(-1)!.close(); // refused
    assert.is(conn.state, 'waiting');
    const before = clients.length;
    let waited = 0;
    while (clients.length === before) {
      clock.advance(100);
      waited += 100;
      await tick();
      if (waited > 60_000) assert.unreachable('no retry');
    }
    gaps.push(waited);
  }
  assert.equal(gaps, [1000, 2000, 4000, 8000, 8000, 8000]);
  assert.is(conn.stats().failedAttempts, 6);
});

test('the backoff resets only after a connection stayed up for stableAfterMs', async () => {
  const { conn, clients, clock } = setup();
  conn.start();
  await tick();
  const waitRetry = async () => {
    const n = clients.length;
    let waited = 0;
    while (clients.length === n) {
      clock.advance(100);
      waited += 100;
      await tick();
    }
    return waited;
  };
  clients.at(-1)!.close();
  await waitRetry();
  clients.at(-1)!.close();
  assert.is(await waitRetry(), 2000);
  // Accepted, then dropped at once: still backing off (a flapping broker).
  clients.at(-1)!.accept();
  clients.at(-1)!.close();
  assert.is(await waitRetry(), 4000);
  // Up long enough: the next drop retries at the minimum again.
  clients.at(-1)!.accept();
  clock.advance(10_000);
  clients.at(-1)!.close();
  assert.is(await waitRetry(), 1000);
});

test('publish resolves on the ack, rejects when offline, and in-flight ones reject when the connection closes', async () => {
  const { conn, clients } = setup();
  try {
    await conn.publish('t', 'x');
    assert.unreachable();
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_SYNC_OFFLINE'));
  }
  conn.start();
  await tick();
  clients[0]!.accept();
  const ok = conn.publish('a', '1', { qos: 1, retain: true });
  const lost = conn.publish('b', '2');
  const c = clients[0]!;
  assert.equal(c.publishes.map((p) => [p.topic, p.opts]), [
    ['a', { qos: 1, retain: true, properties: undefined }],
    ['b', { qos: 1, retain: false, properties: undefined }],
  ]);
  c.publishes[0]!.cb();
  await ok;
  c.close();
  try {
    await lost;
    assert.unreachable();
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_SYNC_OFFLINE'));
  }
  assert.ok(c.ended.length > 0, 'the dead client is ended (no mqtt.js timers left)');
});

test('events: connected with the broker receive maximum, disconnected, messages with MQTT 5 properties', async () => {
  const { conn, clients } = setup();
  const seen: string[] = [];
  conn.on('connected', (i) => seen.push(`connected ${i.receiveMaximum}`));
  conn.on('disconnected', () => seen.push('disconnected'));
  conn.on('message', (m) => seen.push(`message ${m.topic} ${m.payload.toString()} ${m.responseTopic} ${m.correlationData?.toString()}`));
  conn.start();
  await tick();
  const c = clients[0]!;
  c.accept({ receiveMaximum: 20 });
  c.emit('message', 'pgw/v1/box-1/cmd/x', Buffer.from('{}'), { retain: false, properties: { responseTopic: 'r/1', correlationData: Buffer.from('abc') } });
  c.close();
  // A late event from the old client is ignored.
  c.emit('message', 'late', Buffer.from(''), { retain: false });
  assert.equal(seen, ['connected 20', 'message pgw/v1/box-1/cmd/x {} r/1 abc', 'disconnected']);
});

test('stop ends the client, cancels the retry, and no attempt follows', async () => {
  const { conn, clients, clock } = setup();
  conn.start();
  await tick();
  clients[0]!.close();
  assert.is(conn.state, 'waiting');
  await conn.stop();
  assert.is(conn.state, 'stopped');
  clock.advance(120_000);
  await tick();
  assert.is(clients.length, 1);
  conn.start();
  await tick();
  assert.is(clients.length, 1, 'a stopped connection stays stopped');
});

test('stop while connected sends a normal DISCONNECT (not forced)', async () => {
  const { conn, clients } = setup();
  conn.start();
  await tick();
  clients[0]!.accept();
  await conn.stop();
  assert.equal(clients[0]!.ended, [{ force: false }]);
});

test('a missing certificate file is a failed attempt, retried, not a crash', async () => {
  const { conn, clients, clock } = setup({ url: 'mqtts://broker.example:8883', ca: '/nonexistent/ca.pem' });
  conn.start();
  await new Promise((r) => setTimeout(r, 20));
  assert.is(clients.length, 0);
  assert.is(conn.state, 'waiting');
  assert.match(conn.stats().lastError ?? '', /ENOENT/);
  clock.advance(1000);
  await new Promise((r) => setTimeout(r, 20));
  assert.is(conn.state, 'waiting', 'tried again and failed again');
  await conn.stop();
});

test('credentials never reach the logs through the URL', () => {
  assert.is(redactUrl('mqtts://dev:secret@broker:8883/x'), 'mqtts://***@broker:8883/x');
  assert.is(redactUrl('mqtt://broker:1883'), 'mqtt://broker:1883');
});

test.run();
