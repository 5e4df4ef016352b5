/**
 * kill -9 of the sync layer's process in the middle of an apply and after
 * it, restarts with the broker down and then up (issue 3); the Will; and
 * QoS 1 commands queued by the broker while the box was away.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PracticeStore } from '../../../firmware/src/store/practice-store.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import type { CommandReply, ReportedConfig, StatusPayload } from '../../../firmware/src/sync/payloads.js';
import { deviceTopics } from '../../../firmware/src/sync/topics.js';
import { buildPractice, desired } from '../../unit/sync/support/practice.js';
import { applierLog, spawnSyncChild } from './support/child.js';
import type { SyncChild } from './support/child.js';
import { CloudClient } from './support/cloud.js';
import { startMosquitto } from './support/mosquitto.js';
import type { Mosquitto } from './support/mosquitto.js';

let broker: Mosquitto;
const dirs: string[] = [];
const children: SyncChild[] = [];
const clients: CloudClient[] = [];

test.before(async () => {
  broker = await startMosquitto();
});

test.after(async () => {
  for (const c of children) await c.proc.stop({ signal: 'SIGKILL' });
  for (const c of clients) await c.end();
  await broker.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pgw-crash-'));
  dirs.push(d);
  return d;
}

async function cloud(deviceId: string): Promise<CloudClient> {
  const c = await CloudClient.connect(broker.url);
  clients.push(c);
  await c.subscribe(`pgw/v1/${deviceId}/#`);
  return c;
}

function child(deviceId: string, dataDir: string, stepDelayMs: number): SyncChild {
  const ch = spawnSyncChild({ url: broker.url, deviceId, dataDir, stepDelayMs });
  children.push(ch);
  return ch;
}

async function lastKnownGood(dataDir: string): Promise<number | undefined> {
  const store = new PracticeStore({ dataDir, logger: silentLogger() });
  return (await store.load())?.version;
}

const reported = (pred: (r: ReportedConfig) => boolean) => (m: { topic: string; json: unknown }) =>
  m.topic.endsWith('/config/reported') && pred(m.json as ReportedConfig);

test('kill -9 in the middle of an apply, then after one; restarts with the broker down run the last known good and catch up when it returns', async () => {
  const id = 'box-crash';
  const t = deviceTopics(id);
  const dataDir = tempDir();
  let c = await cloud(id);

  // Run 1: v1 applied, then killed half way through v2.
  const run1 = child(id, dataDir, 250);
  await run1.waitLine((l) => l.child === 'ready', 'run 1 ready');
  await c.waitFor((m) => m.topic === t.status && (m.json as StatusPayload).online === true, 'run 1 online');
  await c.publish(t.configDesired, desired(buildPractice({ version: 1, extensions: 3 })), { qos: 1, retain: true });
  await c.waitFor(reported((r) => r.version === 1 && r.status === 'applied'), 'v1 applied');
  await c.publish(t.configDesired, desired(buildPractice({ version: 2, extensions: 5 })), { qos: 1, retain: true });
  await run1.waitLine((l) => l.child === 'apply-step' && l.version === 2 && l.step === 'huntGroups', 'v2 half applied');
  await run1.kill9();
  // The Will tells the cloud at once.
  await c.waitFor((m) => m.topic === t.status && m.text === '{"online":false}', 'the Will');
  assert.is(await lastKnownGood(dataDir), 1, 'a half-applied version is never the last known good');
  assert.not.ok(applierLog(dataDir).some((e) => e.version === 2 && e.done), 'v2 never completed');

  // Run 2 with the broker down: runs v1 from the store.
  await broker.stop();
  await c.end();
  const run2 = child(id, dataDir, 20);
  const ready2 = await run2.waitLine((l) => l.child === 'ready', 'run 2 ready with the broker down');
  assert.is(ready2.running, 1);
  const restored = applierLog(dataDir).filter((e) => e.reason === 'restore' && e.done);
  assert.equal(restored.map((e) => e.version), [1]);

  // The broker returns: the retained v2 is applied and reported.
  await broker.start();
  c = await cloud(id);
  await run2.waitLine((l) => l.child === 'apply-done' && l.version === 2 && l.reason === 'desired', 'v2 applied after the broker returned', 20_000);
  await c.waitFor(reported((r) => r.version === 2 && r.status === 'applied'), 'v2 reported applied', 15_000);
  assert.is(await lastKnownGood(dataDir), 2);

  // kill -9 after the apply; restart with the broker down: runs v2.
  await run2.kill9();
  await broker.stop();
  await c.end();
  const run3 = child(id, dataDir, 20);
  const ready3 = await run3.waitLine((l) => l.child === 'ready', 'run 3 ready with the broker down');
  assert.is(ready3.running, 2);
  const before = applierLog(dataDir).length;
  await broker.start();
  c = await cloud(id);
  // The retained v2 is the document it runs: handled as a no-op, the applier not called again.
  const handled = async (): Promise<boolean> => {
    try {
      const d = await c.request(id, 'get-diagnostics', undefined, 2_000);
      const r = d.ok ? (d.result as { config: { documentsHandled: number; appliedVersion: number } }) : undefined;
      return !!r && r.config.documentsHandled >= 1 && r.config.appliedVersion === 2;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 15_000;
  while (!(await handled())) {
    if (Date.now() > deadline) assert.unreachable(`run 3 never handled the retained desired:\n${run3.proc.output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.is(applierLog(dataDir).length, before, 'no apply: the same document twice is a no-op');
  await c.waitFor(reported((r) => r.version === 2 && r.status === 'applied'), 'v2 still reported', 5_000);
  await c.waitFor((m) => m.topic === t.status && (m.json as StatusPayload).online === true && (m.json as { configVersion: number }).configVersion === 2, 'status v2');
});

test('commands sent while the box was away are queued by the broker (session expiry) and answered on return', async () => {
  const id = 'box-away';
  const t = deviceTopics(id);
  const dataDir = tempDir();
  const c = await cloud(id);
  const run1 = child(id, dataDir, 0);
  await run1.waitLine((l) => l.child === 'ready', 'ready');
  await c.waitFor((m) => m.topic === t.status && (m.json as StatusPayload).online === true, 'online');
  // Its session (subscriptions included) must exist at the broker before it goes away.
  const first = await c.request(id, 'get-diagnostics');
  assert.ok(first.ok);
  await run1.kill9();
  await c.waitFor((m) => m.topic === t.status && m.text === '{"online":false}', 'the Will');

  const replyTopic = 'cloud/replies/away';
  await c.subscribe(replyTopic);
  await c.client.publishAsync(t.command('get-diagnostics'), '', {
    qos: 1,
    properties: { responseTopic: replyTopic, correlationData: Buffer.from('while-away') },
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.is(c.on(replyTopic).length, 0, 'nobody answers while the box is away');

  const run2 = child(id, dataDir, 0);
  await run2.waitLine((l) => l.child === 'ready', 'ready again');
  const m = await c.waitFor((x) => x.topic === replyTopic, 'the queued command answered', 15_000);
  assert.is(m.correlationData?.toString(), 'while-away');
  assert.is((m.json as CommandReply).ok, true);
});

test('a clean stop says offline itself (a normal DISCONNECT drops the Will)', async () => {
  const id = 'box-stop';
  const t = deviceTopics(id);
  const c = await cloud(id);
  const run = child(id, tempDir(), 0);
  await run.waitLine((l) => l.child === 'ready', 'ready');
  await c.waitFor((m) => m.topic === t.status && (m.json as StatusPayload).online === true, 'online');
  const r = await run.proc.stop({ signal: 'SIGTERM' });
  assert.is(r.code, 0);
  const off = await c.waitFor((m) => m.topic === t.status && (m.json as StatusPayload).online === false, 'offline status');
  assert.is((off.json as { reason?: string }).reason, 'stopped');
});

test.run();
