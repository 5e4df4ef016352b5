import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { StatusPublisher } from '../../../firmware/src/sync/status-publisher.js';
import type { GatewayStatus, OnlineStatusPayload } from '../../../firmware/src/sync/payloads.js';
import type { StatusSource } from '../../../firmware/src/sync/ports.js';
import type { StatusProvider } from '../../../firmware/src/admin/status-provider.js';

// The admin API's provider is a status source as it is: the gateway implements status once.
const _compatible = (p: StatusProvider): StatusSource => p;
void _compatible;

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function setup() {
  const clock = new FakeClock();
  const status: GatewayStatus & Record<string, unknown> = {
    mode: 'normal',
    configVersion: 3,
    uplinks: [{ name: 'cloud', state: 'up' }],
    registrations: 10,
    activeCalls: 0,
    firmware: { version: '1.0.0', slot: 'a' },
  };
  const sent: OnlineStatusPayload[] = [];
  const pub = new StatusPublisher({
    deviceId: 'box-1',
    source: { status: () => structuredClone(status) },
    clock,
    logger: silentLogger(),
    intervalMs: 60_000,
    coalesceMs: 200,
    publish: async (p) => {
      sent.push(p);
    },
  });
  return { clock, status, sent, pub };
}

test('published at once on connect, with online, device id and the contract figures only', async () => {
  const { pub, sent, status } = setup();
  status.secretThing = 'should-not-go-out';
  pub.setOnline();
  await settle();
  assert.is(sent.length, 1);
  const p = sent[0]!;
  assert.is(p.online, true);
  assert.is(p.deviceId, 'box-1');
  assert.equal(
    Object.keys(p).sort(),
    ['activeCalls', 'at', 'configVersion', 'deviceId', 'firmware', 'mode', 'online', 'registrations', 'uplinks'],
  );
});

test('changes are coalesced, and a change that changes nothing publishes nothing', async () => {
  const { pub, sent, status, clock } = setup();
  pub.setOnline();
  await settle();
  for (let i = 0; i < 5; i++) {
    status.registrations++;
    pub.changed();
  }
  clock.advance(199);
  await settle();
  assert.is(sent.length, 1);
  clock.advance(1);
  await settle();
  assert.is(sent.length, 2);
  assert.is(sent[1]!.registrations, 15);
  pub.changed();
  clock.advance(200);
  await settle();
  assert.is(sent.length, 2, 'same figures: not republished');
});

test('republished at least every interval even when nothing changes; not while offline', async () => {
  const { pub, sent, clock } = setup();
  pub.setOnline();
  await settle();
  clock.advance(60_000);
  await settle();
  clock.advance(60_000);
  await settle();
  assert.is(sent.length, 3);
  pub.setOffline();
  clock.advance(600_000);
  pub.changed();
  clock.advance(1000);
  await settle();
  assert.is(sent.length, 3);
  pub.setOnline();
  await settle();
  assert.is(sent.length, 4, 'and again on reconnect, even though nothing changed');
});

test('a change resets the periodic timer', async () => {
  const { pub, sent, clock, status } = setup();
  pub.setOnline();
  await settle();
  clock.advance(50_000);
  status.mode = 'survivability';
  pub.changed();
  clock.advance(200);
  await settle();
  assert.is(sent.length, 2);
  clock.advance(59_000);
  await settle();
  assert.is(sent.length, 2);
  clock.advance(1_000);
  await settle();
  assert.is(sent.length, 3);
});

test.run();
