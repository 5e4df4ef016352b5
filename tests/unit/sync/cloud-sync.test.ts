/** The service's wiring on a fake mqtt.js client and a fake clock (mosquitto: tests/integration/sync/). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { MqttSchema } from '../../../firmware/src/config/device-schema.js';
import { createCloudSync } from '../../../firmware/src/sync/cloud-sync.js';
import type { CommandReply, ReportedConfig } from '../../../firmware/src/sync/payloads.js';
import { FakeMqttClient } from './support/fake-mqtt-client.js';
import { buildPractice, desired, FakeApplier, MemoryLkg, validated } from './support/practice.js';

const dirs: string[] = [];
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const settle = () => new Promise((r) => setTimeout(r, 30));

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'pgw-cs-'));
  dirs.push(dataDir);
  const clock = new FakeClock();
  const clients: FakeMqttClient[] = [];
  const applier = new FakeApplier();
  const lkg = new MemoryLkg();
  let samples = 0;
  const sync = createCloudSync({
    deviceId: 'box-9',
    cloud: { mqtt: MqttSchema.parse({ url: 'mqtt://127.0.0.1:1883', reconnect: { minMs: 100, maxMs: 1000 } }), statusIntervalSeconds: 60, telemetryIntervalSeconds: 30 },
    dataDir,
    applier,
    lastKnownGood: lkg,
    status: { status: () => ({ mode: 'normal', configVersion: applier.current()?.version ?? null, uplinks: [], registrations: 1, activeCalls: 0, firmware: { version: '1', slot: 'a' } }) },
    telemetry: {
      sample: async () => {
        samples++;
        return { cpu: { loadPercent: 1, load1: 0, temperatureC: null }, memory: { totalBytes: 1, usedBytes: 0, availableBytes: 1 }, disks: [], interfaces: [], uptimeSeconds: 1 };
      },
    },
    clock,
    logger: silentLogger(),
    connectFn: (_url, options) => {
      const c = new FakeMqttClient(options);
      c.autoAck = true;
      clients.push(c);
      return c as unknown as MqttClient;
    },
  });
  return { sync, clock, clients, applier, lkg, samples: () => samples };
}

test('on connect: status (retained), subscriptions to desired and commands with Retain Handling 0', async () => {
  const { sync, clients } = setup();
  await sync.start();
  await settle();
  const c = clients[0]!;
  c.accept();
  await settle();
  const status = c.on_('pgw/v1/box-9/status');
  assert.is(status.length, 1);
  assert.is(status[0]!.opts.retain, true);
  assert.is(JSON.parse(status[0]!.payload).online, true);
  assert.equal(c.subscriptions, [{ 'pgw/v1/box-9/config/desired': { qos: 1, rh: 0, nl: false, rap: false }, 'pgw/v1/box-9/cmd/+': { qos: 1, rh: 0, nl: false, rap: false } }]);
  await sync.stop();
});

test('the last known good runs at start; its report is published on connect; desired → reported retained', async () => {
  const { sync, clients, applier, lkg } = setup();
  lkg.saved = { version: 3, practice: validated(buildPractice({ version: 3 })) };
  await sync.start();
  assert.is(applier.running?.version, 3, 'running before any broker');
  await settle();
  const c = clients[0]!;
  c.accept();
  await settle();
  const first = c.on_('pgw/v1/box-9/config/reported');
  assert.is(first.length, 1);
  assert.equal((JSON.parse(first[0]!.payload) as ReportedConfig).version, 3);
  assert.is(first[0]!.opts.retain, true);
  c.deliver('pgw/v1/box-9/config/desired', JSON.stringify(desired(buildPractice({ version: 4, extensions: 5 }))), {}, true);
  await sync.reconciler.whenIdle();
  await settle();
  const reports = c.on_('pgw/v1/box-9/config/reported').map((p) => JSON.parse(p.payload) as ReportedConfig);
  assert.equal(reports.map((r) => [r.version, r.status]), [
    [3, 'applied'],
    [4, 'applied'],
  ]);
  const ev = c.on_('pgw/v1/box-9/events').map((p) => JSON.parse(p.payload) as { type: string; action?: string });
  assert.ok(ev.some((e) => e.type === 'config' && e.action === 'applied'));
  await sync.stop();
});

test('a command is answered on its Response Topic with its Correlation Data', async () => {
  const { sync, clients } = setup();
  await sync.start();
  await settle();
  const c = clients[0]!;
  c.accept();
  c.deliver('pgw/v1/box-9/cmd/get-diagnostics', '', { responseTopic: 'r/1', correlationData: Buffer.from('k') });
  await settle();
  const reply = c.on_('r/1')[0]!;
  assert.is(reply.opts.properties?.correlationData?.toString(), 'k');
  const body = JSON.parse(reply.payload) as CommandReply;
  assert.ok(body.ok);
  await sync.stop();
});

test('telemetry on the clock while connected, not while offline', async () => {
  const { sync, clients, clock, samples } = setup();
  await sync.start();
  await settle();
  clock.advance(30_000);
  await settle();
  assert.is(samples(), 0, 'offline: not even sampled');
  clients[0]!.accept();
  clock.advance(30_000);
  await settle();
  assert.is(clients[0]!.on_('pgw/v1/box-9/telemetry').length, 1);
  clock.advance(30_000);
  await settle();
  assert.is(clients[0]!.on_('pgw/v1/box-9/telemetry').length, 2);
  await sync.stop();
});

test('call records wait in the outbox while offline and go on connect; stop says offline and disconnects', async () => {
  const { sync, clients } = setup();
  await sync.start();
  const ids = [];
  for (let i = 0; i < 3; i++)
    ids.push((await sync.recordCall({ direction: 'internal', from: { number: '201' }, to: { number: '202' }, arrivedAt: 'a', endedAt: 'b', disposition: 'missed' })).id);
  await settle();
  const c = clients[0]!;
  assert.is(c.on_('pgw/v1/box-9/cdr').length, 0);
  c.accept();
  await sync.whenCdrsDrained();
  assert.equal(c.on_('pgw/v1/box-9/cdr').map((p) => (JSON.parse(p.payload) as { id: string }).id), ids);
  await sync.stop();
  const last = c.on_('pgw/v1/box-9/status').at(-1)!;
  assert.equal({ ...JSON.parse(last.payload), at: 'x' }, { online: false, reason: 'stopped', at: 'x' });
  assert.equal(c.ended.at(-1), { force: false });
  try {
    await sync.recordCall({ direction: 'internal', from: { number: '201' }, to: { number: '202' }, arrivedAt: 'a', endedAt: 'b', disposition: 'missed' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, 'PGW_E_SYNC_OUTBOX');
  }
});

test('a device id that cannot be a topic segment is refused', () => {
  try {
    createCloudSync({ deviceId: 'a/b' } as never);
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, 'PGW_E_CONFIG_INVALID');
  }
});

test.run();
