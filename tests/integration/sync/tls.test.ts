/**
 * TLS with the cloud's CA and a per-device client certificate, against a
 * mosquitto that requires client certificates (issue 3, "Connection").
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { MqttSchema } from '../../../firmware/src/config/device-schema.js';
import { runFleet } from '../../../firmware/src/cli/fleet/index.js';
import type { StatusPayload } from '../../../firmware/src/sync/payloads.js';
import { deviceTopics } from '../../../firmware/src/sync/topics.js';
import { makePki } from './support/certs.js';
import type { Pki } from './support/certs.js';
import { startBox } from './support/cloud.js';
import type { TestBox } from './support/cloud.js';
import { startMosquitto } from './support/mosquitto.js';
import type { Mosquitto } from './support/mosquitto.js';

const dir = mkdtempSync(join(tmpdir(), 'pgw-tls-'));
let pki: Pki;
let broker: Mosquitto;
const boxes: TestBox[] = [];

test.before(async () => {
  pki = await makePki(dir);
  broker = await startMosquitto({ tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, requireCertificate: true } });
});

test.after(async () => {
  for (const b of boxes) await b.stop().catch(() => undefined);
  await broker.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function box(id: string, tls: { ca?: string; cert?: string; key?: string }): Promise<TestBox> {
  const b = await startBox({
    url: broker.url,
    deviceId: id,
    dataDir: join(dir, id),
    over: {
      cloud: {
        mqtt: MqttSchema.parse({ url: broker.url, ...tls, reconnect: { minMs: 100, maxMs: 500 } }),
        statusIntervalSeconds: 60,
        telemetryIntervalSeconds: 3600,
      },
    },
  });
  boxes.push(b);
  return b;
}

async function waitState(b: TestBox, pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return pred();
}

test('a box with the cloud CA and its client certificate connects over TLS and publishes its status', async () => {
  const device = await pki.client('box-tls');
  const b = await box('box-tls', { ca: pki.ca, ...device });
  assert.ok(await waitState(b, () => b.sync.connection.connected, 10_000), `not connected: ${b.sync.connection.stats().lastError}`);
  const cloudCert = await pki.client('cloud');
  const cloud = await connectAsync(broker.url, {
    protocolVersion: 5,
    ca: readFileSync(pki.ca),
    cert: readFileSync(cloudCert.cert),
    key: readFileSync(cloudCert.key),
    reconnectPeriod: 0,
  });
  try {
    const got = new Promise<StatusPayload>((resolve) => cloud.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as StatusPayload)));
    await cloud.subscribeAsync(deviceTopics('box-tls').status, { qos: 1 });
    const s = await got;
    assert.is(s.online, true);
  } finally {
    await cloud.endAsync();
  }

  // The fleet tool over the same TLS.
  const out = { out: '', err: '' };
  const code = await runFleet(['status', '--broker', broker.url, '--device', 'box-tls', '--ca', pki.ca, '--cert', cloudCert.cert, '--key', cloudCert.key], {
    out: (t) => void (out.out += t),
    err: (t) => void (out.err += t),
    env: {},
  });
  assert.is(code, 0, out.err);
  assert.match(out.out, /^box-tls\s+yes\s+normal/m);
});

test('without a client certificate the broker refuses the box; it keeps retrying with backoff', async () => {
  const b = await box('box-nocert', { ca: pki.ca });
  await new Promise((r) => setTimeout(r, 1500));
  const st = b.sync.connection.stats();
  assert.is(st.connects, 0);
  assert.ok(st.failedAttempts >= 2, `attempts ${st.failedAttempts}`);
  assert.ok(st.lastError !== null);
});

test('a broker whose certificate the cloud CA did not sign is not trusted', async () => {
  const other = await makePki(dir, 'rogue-ca');
  const device = await other.client('box-rogue');
  const b = await box('box-rogue', { ca: other.ca, ...device });
  await new Promise((r) => setTimeout(r, 1000));
  const st = b.sync.connection.stats();
  assert.is(st.connects, 0);
  assert.match(st.lastError ?? '', /certificate|self.signed|unable to verify/i);
});

test.run();
