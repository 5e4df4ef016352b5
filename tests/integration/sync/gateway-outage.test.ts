/**
 * Issue 3 against the real gateway, with real calls:
 * - the broker goes away for the length of several calls between two desk
 *   phones; when it returns, every call record arrives on `cdr` exactly once
 *   and in order;
 * - the gateway is killed (SIGKILL) right after a pushed config was applied,
 *   and restarted with the broker down: it runs on the last applied version
 *   (its phones register), and catches up when the broker returns.
 * Broker, gateway and phones all run on 127.0.0.1.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTone } from '../../support/audio.js';
import { BaresipPhone } from '../../support/baresip.js';
import { startGateway, testPractice, type GatewayUnderTest } from '../../support/gateway.js';
import { freePortBlock, freeUdpPort } from '../../support/ports.js';
import { sleep, waitUntil, withTimeout } from '../../support/proc.js';
import { CloudClient } from './support/cloud.js';
import { startMosquitto, type Mosquitto } from './support/mosquitto.js';

const DEVICE = 'pgw-test';
const EXT = [
  { number: '201', name: 'Reception 1', password: 'pw-201-secret' },
  { number: '202', name: 'Reception 2', password: 'pw-202-secret' },
  { number: '203', name: 'Reception 3', password: 'pw-203-secret' },
];

test('call records made while the broker is away arrive once, in order; a killed gateway restarts on its last applied config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-outage-'));
  let broker: Mosquitto | undefined;
  let gw: GatewayUnderTest | undefined;
  let cloud: CloudClient | undefined;
  const phones: BaresipPhone[] = [];
  try {
    await withTimeout(
      (async () => {
        broker = await startMosquitto();
        const sipPort = await freeUdpPort();
        const adminPort = await freeUdpPort();
        const practice = (version: number, extensions: typeof EXT) => {
          const p = testPractice({ extensions });
          return { ...p, version, sip: { ...(p.sip as object), listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }], rtp: { portMin: 21000, portMax: 21999 } } };
        };
        const device = { admin: { listen: `127.0.0.1:${adminPort}` }, cloud: { mqtt: { url: broker.url } } };
        const gwOptions = { dir: join(dir, 'gw'), practice: practice(1, EXT.slice(0, 2)), device };
        gw = await startGateway(gwOptions);
        cloud = await CloudClient.connect(broker.url, { persistent: true, clientId: 'test-cloud' });
        await cloud.subscribe(`pgw/v1/${DEVICE}/#`);

        const phone = async (name: string, ext: (typeof EXT)[number], freqHz: number): Promise<BaresipPhone> => {
          const p = await BaresipPhone.start({
            name,
            listenIp: '127.0.0.1',
            sipPort: await freePortBlock(10),
            user: ext.number,
            registrar: { host: '127.0.0.1', port: sipPort, password: ext.password, regintSec: 300 },
            toneWav: await makeTone({ path: join(dir, `${name}.wav`), freqHz, seconds: 60 }),
            workDir: join(dir, name),
          });
          phones.push(p);
          await p.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
          return p;
        };
        const alice = await phone('alice', EXT[0]!, 1000);
        const bob = await phone('bob', EXT[1]!, 1500);

        // The broker goes away; three short calls happen meanwhile.
        await broker.stop();
        for (let i = 0; i < 3; i++) {
          const mark = alice.mark();
          await alice.dial(`sip:202@127.0.0.1:${sipPort}`);
          await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000, since: mark });
          await sleep(500);
          await alice.hangup();
          await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000, since: mark });
          await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000, since: mark });
        }
        await broker.start();
        await waitUntil(() => cloud!.on(`pgw/v1/${DEVICE}/cdr`).length >= 3 || undefined, { timeoutMs: 30_000, what: 'three call records' });
        await sleep(1_500); // any duplicate would arrive by now
        const cdrs = cloud.on(`pgw/v1/${DEVICE}/cdr`).map((m) => m.json as { id: string; arrivedAt: string; disposition: string; from: { number: string }; to: { number: string } });
        assert.is(cdrs.length, 3, `exactly three records: ${JSON.stringify(cdrs)}`);
        assert.is(new Set(cdrs.map((c) => c.id)).size, 3, 'unique ids');
        const arrived = cdrs.map((c) => c.arrivedAt);
        assert.equal(arrived, [...arrived].sort(), 'in the order the calls were made');
        for (const c of cdrs) {
          assert.is(c.disposition, 'answered');
          assert.is(c.from.number, '201');
          assert.is(c.to.number, '202');
        }

        // v2 adds 203; the gateway is killed right after reporting it applied.
        await cloud.publish(`pgw/v1/${DEVICE}/config/desired`, { version: 2, practice: practice(2, EXT) }, { qos: 1, retain: true });
        await cloud.waitFor((m) => m.topic.endsWith('/config/reported') && (m.json as { version?: number }).version === 2, 'v2 reported', 15_000);
        await gw.proc.stop({ signal: 'SIGKILL' });
        for (const p of phones.splice(0)) await p.stop();
        await broker.stop();

        // Restart with the broker down: it runs on v2, the last applied, from its store.
        gw = await startGateway(gwOptions);
        const status = (await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/status`)).json()) as { configVersion: number };
        assert.is(status.configVersion, 2, 'runs the last applied version, not the file');
        await phone('carol', EXT[2]!, 800);

        // The broker returns: the box reconnects and reports itself online again.
        const before = cloud.on(`pgw/v1/${DEVICE}/status`).length;
        await broker.start();
        await waitUntil(
          () => cloud!.on(`pgw/v1/${DEVICE}/status`).slice(before).some((m) => (m.json as { online?: boolean; configVersion?: number }).online === true && (m.json as { configVersion?: number }).configVersion === 2) || undefined,
          { timeoutMs: 30_000, what: 'status online with v2 after the broker returned' },
        );
      })(),
      120_000,
      'outage and restart against the gateway',
    );
  } finally {
    for (const p of phones) await p.stop().catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    await cloud?.end().catch(() => undefined);
    await broker?.destroy().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
