/**
 * docs/MQTT.md is kept in step with the code: every topic, command and
 * alarm the code has is documented (and nothing more), the Will is
 * documented byte for byte, and the examples have the shapes the code
 * actually publishes (compared key by key with payloads made by the code).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { MqttSchema } from '../../../firmware/src/config/device-schema.js';
import { createCloudSync, WILL_PAYLOAD } from '../../../firmware/src/sync/cloud-sync.js';
import { ConfigReconciler } from '../../../firmware/src/sync/reconciler.js';
import { StatusPublisher } from '../../../firmware/src/sync/status-publisher.js';
import { deviceTopics } from '../../../firmware/src/sync/topics.js';
import type { GatewayEvent, OnlineStatusPayload, ReportedConfig } from '../../../firmware/src/sync/payloads.js';
import { buildPractice, desired, FakeApplier, MemoryLkg } from './support/practice.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs/MQTT.md'), 'utf8');

/** `## heading` → the JSON code blocks under it, parsed. */
function examples(): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  let section = '';
  const lines = doc.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('## ')) section = line.slice(3).trim();
    if (line.trim() === '```json') {
      const body: string[] = [];
      for (i++; lines[i] !== undefined && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
      const list = out.get(section) ?? [];
      try {
        list.push(JSON.parse(body.join('\n')));
      } catch (e) {
        assert.unreachable(`a json example under "${section}" is not JSON: ${(e as Error).message}`);
      }
      out.set(section, list);
    }
  }
  return out;
}

const keys = (o: unknown): string[] => Object.keys(o as object).sort();

test('every topic of a device is in the topic table', () => {
  const t = deviceTopics('x');
  for (const full of [t.configDesired, t.configReported, t.status, t.telemetry, t.events, t.cdr]) {
    const leaf = full.slice(t.prefix.length);
    assert.ok(doc.includes(`| \`${leaf}\` |`), `topic ${leaf} missing from the table`);
  }
  assert.ok(doc.includes('| `cmd/{name}` |'));
  assert.ok(doc.includes('Prefix `pgw/v1/{deviceId}/`'));
});

test('the Will is documented byte for byte', () => {
  assert.ok(doc.includes(WILL_PAYLOAD), WILL_PAYLOAD);
});

test('the command table lists exactly the commands the box answers', async () => {
  const sync = createCloudSync({
    deviceId: 'doc-box',
    cloud: { mqtt: MqttSchema.parse({ url: 'mqtt://127.0.0.1:1' }), statusIntervalSeconds: 60, telemetryIntervalSeconds: 60 },
    dataDir: '/nonexistent',
    applier: new FakeApplier(),
    lastKnownGood: new MemoryLkg(),
    status: { status: () => ({ mode: 'normal', configVersion: null, uplinks: [], registrations: 0, activeCalls: 0, firmware: { version: '0', slot: 'a' } }) },
    telemetry: { sample: async () => ({ cpu: { loadPercent: null, load1: null, temperatureC: null }, memory: { totalBytes: 0, usedBytes: 0, availableBytes: 0 }, disks: [], interfaces: [], uptimeSeconds: 0 }) },
    clock: new FakeClock(),
    logger: silentLogger(),
  });
  const names = ((await sync.diagnostics()).commands as string[]).sort();
  const section = doc.slice(doc.indexOf('## Commands'), doc.indexOf('## pgw fleet'));
  const documented = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]!).sort();
  assert.equal(documented, names);
});

test('the alarm table lists exactly the alarms the sync layer raises', () => {
  const dir = join(ROOT, 'firmware/src/sync');
  const src = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  const raised = new Set<string>();
  for (const m of src.matchAll(/alarm: '([a-z-]+)'/g)) raised.add(m[1]!);
  for (const m of src.matchAll(/(?:this\.alarm|alarm)\(\s*'([a-z-]+)'/g)) raised.add(m[1]!);
  const section = doc.slice(doc.indexOf('Alarms the sync layer raises'), doc.indexOf('## cdr'));
  const documented = new Set([...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]!));
  assert.equal([...documented].sort(), [...raised].sort());
});

test('config/reported examples have the shapes the reconciler publishes', async () => {
  const reports: ReportedConfig[] = [];
  const events: GatewayEvent[] = [];
  const r = new ConfigReconciler({
    applier: new FakeApplier(),
    store: new MemoryLkg(),
    clock: new FakeClock(),
    logger: silentLogger(),
    onReport: (x) => reports.push(x),
    onEvent: (e) => events.push(e),
  });
  r.submit(JSON.stringify(desired(buildPractice({ version: 8 }))));
  await r.whenIdle();
  r.submit(JSON.stringify({ version: 9, practice: { site: {} } }));
  await r.whenIdle();
  r.submit(JSON.stringify(desired(buildPractice({ version: 6 }))));
  await r.whenIdle();
  const [applied, rejected, ignored] = [reports.find((x) => x.status === 'applied' && !x.ignored)!, reports.find((x) => x.status === 'rejected')!, reports.find((x) => x.ignored)!];
  const ex = examples().get('config/reported')!;
  assert.is(ex.length, 3);
  assert.equal(keys(ex[0]), keys(applied));
  assert.equal(keys(ex[1]), keys(rejected));
  assert.equal(keys(ex[2]), keys(ignored));
  assert.equal(keys((ex[2] as { ignored: object }).ignored), keys(ignored.ignored));
  const applyEvent = events.find((e) => e.type === 'config' && e.action === 'applied')!;
  const evEx = examples().get('events')!.find((e) => (e as { action?: string }).action === 'applied')!;
  assert.equal(keys(evEx), [...keys(applyEvent), 'deviceId'].sort());
  assert.equal(keys((evEx as { changes: object }).changes), keys((applyEvent as { changes: object }).changes));
});

test('the status example has the shape the status publisher publishes', async () => {
  const sent: OnlineStatusPayload[] = [];
  const p = new StatusPublisher({
    deviceId: 'd',
    source: { status: () => ({ mode: 'normal', configVersion: 1, uplinks: [], registrations: 0, activeCalls: 0, firmware: { version: '1', slot: 'a' } }) },
    clock: new FakeClock(),
    logger: silentLogger(),
    publish: async (x) => void sent.push(x),
  });
  p.setOnline();
  await p.idle();
  await p.idle();
  const ex = examples().get('status')!;
  assert.equal(keys(ex[0]), keys(sent[0]));
  assert.equal(ex[1], JSON.parse(WILL_PAYLOAD));
});

test.run();
