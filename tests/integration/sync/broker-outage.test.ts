/**
 * The broker goes away and comes back: the box reconnects by itself and
 * republishes its status; call records produced meanwhile, or before a
 * kill -9, all arrive exactly once and in order after it returns.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord, OnlineStatusPayload, StatusPayload } from '../../../firmware/src/sync/payloads.js';
import { deviceTopics } from '../../../firmware/src/sync/topics.js';
import { spawnSyncChild } from './support/child.js';
import type { SyncChild } from './support/child.js';
import { CloudClient, startBox } from './support/cloud.js';
import type { TestBox } from './support/cloud.js';
import { startMosquitto } from './support/mosquitto.js';
import type { Mosquitto } from './support/mosquitto.js';

let broker: Mosquitto;
const dirs: string[] = [];
const boxes: TestBox[] = [];
const clients: CloudClient[] = [];
const children: SyncChild[] = [];

test.before(async () => {
  broker = await startMosquitto();
});

test.after(async () => {
  for (const b of boxes) await b.stop().catch(() => undefined);
  for (const c of children) await c.proc.stop({ signal: 'SIGKILL' });
  for (const c of clients) await c.end();
  await broker.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pgw-outage-'));
  dirs.push(d);
  return d;
}

const cdr = (i: number) => {
  const now = new Date().toISOString();
  return { callId: `c-${i}`, direction: 'inbound' as const, from: { number: '+447700900123' }, to: { number: '600' }, arrivedAt: now, endedAt: now, disposition: 'answered' as const };
};

test('after a broker restart the box reconnects and republishes its status', async () => {
  const id = 'box-restart';
  const t = deviceTopics(id);
  const box = await startBox({ url: broker.url, deviceId: id, dataDir: tempDir() });
  boxes.push(box);
  const c1 = await CloudClient.connect(broker.url);
  clients.push(c1);
  await c1.subscribe(t.status);
  await c1.waitFor((m) => (m.json as StatusPayload).online === true, 'online');
  assert.is(box.sync.connection.stats().connects, 1);

  await broker.stop();
  await new Promise((r) => setTimeout(r, 300));
  assert.is(box.sync.connection.state === 'connected', false);
  const restartedAt = Date.now();
  await broker.start();

  const c2 = await CloudClient.connect(broker.url);
  clients.push(c2);
  await c2.subscribe(t.status);
  const m = await c2.waitFor(
    (x) => (x.json as StatusPayload).online === true && Date.parse((x.json as OnlineStatusPayload).at) >= restartedAt - 50,
    'status republished after the restart',
    10_000,
  );
  assert.is((m.json as OnlineStatusPayload).deviceId, id);
  assert.is(box.sync.connection.stats().connects, 2);
  assert.is(box.sync.connection.state, 'connected');
});

test('call records produced while the broker is down all arrive, exactly once and in order, when it returns', async () => {
  const id = 'box-cdr-outage';
  const t = deviceTopics(id);
  // The cloud's consumer has a persistent session, so it gets what is published before it reconnects.
  const c = await CloudClient.connect(broker.url, { persistent: true, clientId: 'cloud-cdr-consumer' });
  clients.push(c);
  await c.subscribe(t.cdr);
  const box = await startBox({ url: broker.url, deviceId: id, dataDir: tempDir() });
  boxes.push(box);
  const sent: string[] = [];
  for (let i = 0; i < 5; i++) sent.push((await box.sync.recordCall(cdr(i))).id);
  await box.sync.whenCdrsDrained();

  await broker.stop();
  // Calls keep ending while the cloud is away: each record is on disk when recordCall resolves.
  for (let i = 5; i < 30; i++) sent.push((await box.sync.recordCall(cdr(i))).id);
  const diag = await box.sync.diagnostics();
  assert.is((diag.outbox as { pending: number }).pending, 25);
  await broker.start();

  await c.waitFor(() => c.on(t.cdr).length >= 30, 'all 30 records', 20_000);
  await box.sync.whenCdrsDrained();
  await new Promise((r) => setTimeout(r, 300)); // a duplicate would show up here
  const got = c.on(t.cdr).map((m) => (m.json as CallRecord).id);
  assert.equal(got, sent, 'every record exactly once, in order');
  assert.equal(c.on(t.cdr).map((m) => (m.json as CallRecord).callId), sent.map((_, i) => `c-${i}`));
});

test('records on disk when the process was killed are replayed in order after the restart', async () => {
  const id = 'box-cdr-restart';
  const t = deviceTopics(id);
  const dataDir = tempDir();
  const c = await CloudClient.connect(broker.url, { persistent: true, clientId: 'cloud-cdr-consumer-2' });
  clients.push(c);
  await c.subscribe(t.cdr);

  await broker.stop();
  const run1 = spawnSyncChild({ url: broker.url, deviceId: id, dataDir, cdrCount: 12, cdrPrefix: 'rec' });
  children.push(run1);
  await run1.waitLine((l) => l.child === 'cdrs-recorded', '12 records in the outbox');
  await run1.kill9();
  await broker.start();
  const run2 = spawnSyncChild({ url: broker.url, deviceId: id, dataDir, cdrCount: 3, cdrPrefix: 'new' });
  children.push(run2);
  await c.waitFor(() => c.on(t.cdr).length >= 15, 'all 15 records', 20_000);
  await new Promise((r) => setTimeout(r, 300));
  const got = c.on(t.cdr).map((m) => (m.json as CallRecord).id);
  const expected = [...Array.from({ length: 12 }, (_, i) => `rec-${i}`), ...Array.from({ length: 3 }, (_, i) => `new-${i}`)];
  assert.equal(got, expected);
});

test.run();
