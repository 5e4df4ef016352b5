/** The OtaLink adapter over the sync layer's connection: topics, retain/QoS, resubscribe on connect. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MqttConnection } from '../../../../firmware/src/sync/mqtt-connection.js';
import { connectionOtaLink } from '../../../../ota/agent/mqtt-link.js';
import type { MqttConnectionLike } from '../../../../ota/agent/mqtt-link.js';

// The real connection fits the adapter's structural type (a compile-time check).
const fits = (c: MqttConnection): MqttConnectionLike => c;
void fits;

class FakeConnection implements MqttConnectionLike {
  connected = false;
  published: Array<{ topic: string; payload: string; opts: unknown }> = [];
  subscriptions: Array<Record<string, unknown>> = [];
  private handlers: Record<string, Array<(x: never) => void>> = { connected: [], message: [] };
  async publish(topic: string, payload: string | Buffer, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void> {
    this.published.push({ topic, payload: payload.toString(), opts });
  }
  async subscribe(subs: Record<string, { qos: 0 | 1; rh?: 0 | 1 | 2 }>): Promise<void> {
    this.subscriptions.push(subs);
  }
  on(event: 'connected' | 'message', fn: (x: never) => void): () => void {
    this.handlers[event]!.push(fn);
    return () => (this.handlers[event] = this.handlers[event]!.filter((h) => h !== fn));
  }
  emit(event: 'connected' | 'message', arg: unknown): void {
    for (const h of this.handlers[event]!) (h as (x: unknown) => void)(arg);
  }
}

test('publishes retained QoS 1 on ota/reported, subscribes on every connect, filters ota/desired', async () => {
  const c = new FakeConnection();
  const link = connectionOtaLink(c, 'pgw-0001');
  await link.publishReported('{"state":"idle"}');
  assert.equal(c.published, [{ topic: 'pgw/v1/pgw-0001/ota/reported', payload: '{"state":"idle"}', opts: { qos: 1, retain: true } }]);
  const got: string[] = [];
  const off = await link.subscribeDesired((p) => got.push(p.toString()));
  assert.is(c.subscriptions.length, 0, 'not connected yet');
  let reconnects = 0;
  link.onConnected(() => reconnects++);
  c.connected = true;
  c.emit('connected', {});
  assert.equal(c.subscriptions, [{ 'pgw/v1/pgw-0001/ota/desired': { qos: 1, rh: 0 } }]);
  assert.is(reconnects, 1);
  c.emit('message', { topic: 'pgw/v1/pgw-0001/ota/desired', payload: Buffer.from('x') });
  c.emit('message', { topic: 'pgw/v1/pgw-0001/config/desired', payload: Buffer.from('y') });
  c.emit('message', { topic: 'pgw/v1/pgw-0002/ota/desired', payload: Buffer.from('z') });
  assert.equal(got, ['x']);
  off();
  c.emit('message', { topic: 'pgw/v1/pgw-0001/ota/desired', payload: Buffer.from('w') });
  assert.equal(got, ['x']);
});

test.run();
