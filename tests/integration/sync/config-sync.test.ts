/**
 * The config reconciler, commands, telemetry and call records against a
 * real mosquitto: the cloud side is a plain MQTT 5 client.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord, CommandReply, EventPayload, ReportedConfig, TelemetryPayload } from '../../../firmware/src/sync/payloads.js';
import { deviceTopics } from '../../../firmware/src/sync/topics.js';
import { startMosquitto } from './support/mosquitto.js';
import type { Mosquitto } from './support/mosquitto.js';
import { CloudClient, startBox } from './support/cloud.js';
import type { TestBox } from './support/cloud.js';
import { buildPractice, desired } from '../../unit/sync/support/practice.js';

let broker: Mosquitto;
const dirs: string[] = [];
const boxes: TestBox[] = [];
const clients: CloudClient[] = [];

test.before(async () => {
  broker = await startMosquitto();
});

test.after(async () => {
  for (const b of boxes) await b.stop().catch(() => undefined);
  for (const c of clients) await c.end();
  await broker.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function world(deviceId: string, cloud?: { telemetryIntervalSeconds?: number }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pgw-sync-'));
  dirs.push(dataDir);
  const c = await CloudClient.connect(broker.url);
  clients.push(c);
  await c.subscribe(`pgw/v1/${deviceId}/#`);
  const box = await startBox({ url: broker.url, deviceId, dataDir, cloud });
  boxes.push(box);
  const t = deviceTopics(deviceId);
  await c.waitFor((m) => m.topic === t.status && (m.json as { online?: boolean })?.online === true, 'the box online');
  const reportFor = (pred: (r: ReportedConfig) => boolean, what: string) =>
    c.waitFor((m) => m.topic === t.configReported && pred(m.json as ReportedConfig), what).then((m) => m.json as ReportedConfig);
  return { c, box, t, dataDir, reportFor };
}

test('a new version is applied, stored as last known good and reported; status shows it', async () => {
  const { c, box, t, reportFor } = await world('box-apply');
  const p = buildPractice({ version: 1, extensions: 3 });
  await c.publish(t.configDesired, desired(p), { qos: 1, retain: true });
  const r = await reportFor((x) => x.version === 1, 'report of v1');
  assert.is(r.status, 'applied');
  assert.equal(r.errors, []);
  assert.is(box.applier.calls.length, 1);
  assert.equal(box.applier.calls[0]!.practice.extensions.map((e) => e.number), ['2000', '2001', '2002']);
  assert.is((await box.store.load())?.version, 1);
  // v2 adds an extension: the applier is told exactly that.
  await c.publish(t.configDesired, desired(buildPractice({ version: 2, extensions: 4 })), { qos: 1, retain: true });
  await reportFor((x) => x.version === 2 && x.status === 'applied', 'report of v2');
  assert.equal(box.applier.calls[1]!.diff.extensions.added, ['2003']);
  assert.is((await box.store.load())?.version, 2);
  box.sync.statusChanged();
  await c.waitFor((m) => m.topic === t.status && (m.json as { configVersion?: number }).configVersion === 2, 'status with configVersion 2');
  const applied = c.on(t.events).map((m) => m.json as EventPayload).filter((e) => e.type === 'config' && e.action === 'applied');
  assert.is(applied.length, 2);
});

test('an invalid version is rejected with JSON paths and the old one keeps running', async () => {
  const { c, box, t, reportFor } = await world('box-reject');
  await c.publish(t.configDesired, desired(buildPractice({ version: 5 })), { qos: 1, retain: true });
  await reportFor((x) => x.version === 5, 'v5');
  const bad = buildPractice({ version: 6 }) as { extensions: Array<{ number: string }> };
  bad.extensions[2]!.number = '2000';
  await c.publish(t.configDesired, { version: 6, practice: bad }, { qos: 1, retain: true });
  const r = await reportFor((x) => x.version === 6, 'v6 report');
  assert.is(r.status, 'rejected');
  assert.is(r.appliedVersion, 5);
  assert.ok(r.errors.some((e) => e.path === 'practice.extensions[2].number'), JSON.stringify(r.errors));
  assert.is(box.applier.running?.version, 5);
  assert.is((await box.store.load())?.version, 5);
  await c.waitFor((m) => m.topic === t.events && (m.json as EventPayload).type === 'config' && (m.json as { action: string }).action === 'rejected', 'rejected event');
});

test('an older version is ignored: reported keeps the applied version, an event says why', async () => {
  const { c, box, t, reportFor } = await world('box-older');
  await c.publish(t.configDesired, desired(buildPractice({ version: 9 })), { qos: 1, retain: true });
  await reportFor((x) => x.version === 9, 'v9');
  await c.publish(t.configDesired, desired(buildPractice({ version: 8, extensions: 7 })), { qos: 1, retain: true });
  const r = await reportFor((x) => x.ignored?.version === 8, 'report after v8');
  assert.is(r.version, 9);
  assert.is(r.status, 'applied');
  assert.match(r.ignored!.reason, /older/);
  assert.is(box.applier.calls.length, 1);
  const ev = await c.waitFor((m) => m.topic === t.events && (m.json as { action?: string }).action === 'ignored', 'ignored event');
  assert.equal([(ev.json as { version: number }).version, (ev.json as { appliedVersion: number }).appliedVersion], [8, 9]);
});

test('nothing the box publishes holds a secret', async () => {
  const { c, t, reportFor } = await world('box-secrets');
  await c.publish(t.configDesired, desired(buildPractice({ version: 1, passwordPrefix: 'Zq8SecretPw', withTrunk: true })), { qos: 1, retain: true });
  await reportFor((x) => x.version === 1, 'v1');
  const bad = buildPractice({ version: 2, passwordPrefix: 'Zq8SecretPw' }) as { extensions: Array<{ password: string }> };
  bad.extensions[0]!.password = 'tiny';
  await c.publish(t.configDesired, { version: 2, practice: bad }, { qos: 1, retain: true });
  await reportFor((x) => x.version === 2, 'v2');
  const diag = await c.request('box-secrets', 'get-diagnostics');
  assert.ok(diag.ok);
  const fromBox = c.messages.filter((m) => m.topic !== t.configDesired).map((m) => m.text).join('\n');
  assert.not.ok(fromBox.includes('Zq8SecretPw'));
  assert.not.ok(fromBox.includes('trunk-secret-9Jd'));
});

test('commands: MQTT 5 request/response for diagnostics, reload-config, failover-test and unknown ones', async () => {
  const { c, t, reportFor } = await world('box-cmd');
  const diag = await c.request('box-cmd', 'get-diagnostics');
  assert.ok(diag.ok);
  const result = (diag as Extract<CommandReply, { ok: true }>).result as { connection: { state: string }; deviceId: string; outbox: { pending: number } };
  assert.is(result.deviceId, 'box-cmd');
  assert.is(result.connection.state, 'connected');
  assert.is(result.outbox.pending, 0);

  const none = await c.request('box-cmd', 'reload-config');
  assert.equal(!none.ok && none.error.code, 'not-available');
  await c.publish(t.configDesired, desired(buildPractice({ version: 3 })), { qos: 1, retain: true });
  await reportFor((x) => x.version === 3, 'v3');
  const reload = await c.request('box-cmd', 'reload-config');
  assert.ok(reload.ok);
  assert.is(((reload as Extract<CommandReply, { ok: true }>).result as ReportedConfig).version, 3);

  const fo = await c.request('box-cmd', 'failover-test', { uplink: 'cloud' });
  assert.equal(!fo.ok && fo.error.code, 'not-available');
  assert.match(!fo.ok ? fo.error.message : '', /not available/);
  const unknown = await c.request('box-cmd', 'self-destruct');
  assert.equal(!unknown.ok && unknown.error.code, 'unknown-command');
});

test('telemetry from systeminformation at the configured interval', async () => {
  const { c, t } = await world('box-telemetry', { telemetryIntervalSeconds: 1 });
  const m = await c.waitFor((x) => x.topic === t.telemetry, 'telemetry', 8_000);
  const p = m.json as TelemetryPayload;
  assert.is(p.deviceId, 'box-telemetry');
  assert.ok(p.memory.totalBytes > 0);
  assert.ok(p.cpu.loadPercent === null || p.cpu.loadPercent >= 0);
  assert.ok(Array.isArray(p.disks) && p.disks.length > 0);
  assert.ok(Array.isArray(p.interfaces));
  assert.is(p.outbox.pending, 0);
  assert.is(m.retain, false);
});

test('call records in a normal run: each published once, in order, with a unique id; call events live', async () => {
  const { c, box, t } = await world('box-cdr');
  box.sync.publishEvent({ type: 'call', phase: 'ringing', callId: 'call-1', direction: 'inbound', from: { number: '+447700900123' }, to: { number: '600' } });
  await c.waitFor((m) => m.topic === t.events && (m.json as { phase?: string }).phase === 'ringing', 'ringing event');
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await box.sync.recordCall({
      callId: `call-${i}`,
      direction: 'inbound',
      from: { number: '+447700900123' },
      to: { number: '600' },
      arrivedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      disposition: i % 2 ? 'answered' : 'missed',
    });
    ids.push(r.id);
  }
  await box.sync.whenCdrsDrained();
  await c.waitFor(() => c.on(t.cdr).length >= 10, '10 records');
  await new Promise((r) => setTimeout(r, 200));
  const got = c.on(t.cdr).map((m) => (m.json as CallRecord).id);
  assert.equal(got, ids);
  assert.is(new Set(ids).size, 10);
});

test.run();
