import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { EventPublisher } from '../../../firmware/src/sync/event-publisher.js';
import type { EventPayload, GatewayEvent } from '../../../firmware/src/sync/payloads.js';

function setup(maxHeld = 3) {
  const clock = new FakeClock();
  const sent: EventPayload[] = [];
  let fail = false;
  const pub = new EventPublisher({
    deviceId: 'box-1',
    clock,
    logger: silentLogger(),
    maxHeld,
    publish: async (p) => {
      if (fail) throw new Error('closed');
      sent.push(p);
    },
  });
  return { pub, sent, clock, setFail: (f: boolean) => (fail = f) };
}

const ringing: GatewayEvent = {
  type: 'call',
  phase: 'ringing',
  callId: 'c1',
  direction: 'inbound',
  from: { number: '+447700900123', name: 'A Patient' },
  to: { number: '600' },
};
const alarm = (n: number): GatewayEvent => ({ type: 'alarm', alarm: `a${n}`, state: 'raised', severity: 'warning', message: `m${n}` });

test('online: each event goes out with at and the device id, in order', async () => {
  const { pub, sent } = setup();
  pub.setOnline();
  pub.publish(ringing);
  pub.publish({ type: 'mode', mode: 'survivability', previous: 'normal', reason: 'HSCN down' });
  await pub.idle();
  assert.equal(sent.map((s) => s.type), ['call', 'mode']);
  assert.is(sent[0]!.deviceId, 'box-1');
  assert.is(sent[0]!.at, new Date(1_700_000_000_000).toISOString());
  assert.equal((sent[0] as Extract<EventPayload, { type: 'call' }>).from, { number: '+447700900123', name: 'A Patient' });
});

test('offline: mode and alarms are held (newest kept), call events dropped and counted in an alarm', async () => {
  const { pub, sent } = setup(3);
  pub.publish(ringing);
  for (let i = 1; i <= 5; i++) pub.publish(alarm(i));
  assert.is(pub.stats().held, 3);
  pub.setOnline();
  await pub.idle();
  const names = sent.map((s) => (s.type === 'alarm' ? s.alarm : s.type));
  assert.equal(names, ['a3', 'a4', 'a5', 'events-dropped']);
  const dropped = sent.at(-1) as Extract<EventPayload, { type: 'alarm' }>;
  assert.equal(dropped.details, { dropped: 3 });
});

test('an event lost with the connection is held for the next connect', async () => {
  const { pub, sent, setFail } = setup();
  pub.setOnline();
  setFail(true);
  pub.publish(alarm(1));
  await pub.idle();
  pub.setOffline();
  setFail(false);
  pub.setOnline();
  await pub.idle();
  assert.equal(sent.map((s) => (s.type === 'alarm' ? s.alarm : s.type)), ['a1']);
});

test.run();
