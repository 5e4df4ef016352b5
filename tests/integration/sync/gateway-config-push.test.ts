/**
 * Issue 3 against the real gateway: the cloud pushes a new practice version
 * over a real mosquitto; the gateway applies it while running, reports it,
 * and a desk phone on the new extension can register at once. An invalid
 * version is rejected with JSON paths and the running config stays; an
 * older version is ignored. Everything runs on 127.0.0.1 (the broker is on
 * the test's own loopback).
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
import { withTimeout } from '../../support/proc.js';
import { CloudClient } from './support/cloud.js';
import { startMosquitto, type Mosquitto } from './support/mosquitto.js';

const DEVICE = 'pgw-test';

test('a pushed practice is applied live: a new extension registers; invalid and older versions are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-push-'));
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
        const practice = (version: number, extensions: Array<{ number: string; name: string; password: string }>) => {
          const p = testPractice({ extensions });
          return {
            ...p,
            version,
            sip: { ...(p.sip as object), listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }] },
          };
        };
        const v1 = practice(1, [{ number: '201', name: 'Reception 1', password: 'pw-201-secret' }]);
        cloud = await CloudClient.connect(broker.url);
        await cloud.subscribe(`pgw/v1/${DEVICE}/#`);
        gw = await startGateway({
          dir: join(dir, 'gw'),
          practice: v1,
          device: { admin: { listen: `127.0.0.1:${adminPort}` }, cloud: { mqtt: { url: broker.url } } },
        });
        await cloud.waitFor((m) => m.topic.endsWith('/status') && (m.json as { online?: boolean })?.online === true, 'the box online');

        // v2 adds extension 205.
        const v2 = practice(2, [
          { number: '201', name: 'Reception 1', password: 'pw-201-secret' },
          { number: '205', name: 'New Nurse', password: 'pw-205-secret' },
        ]);
        await cloud.publish(`pgw/v1/${DEVICE}/config/desired`, { version: 2, practice: v2 }, { qos: 1, retain: true });
        const applied = await cloud.waitFor(
          (m) => m.topic.endsWith('/config/reported') && (m.json as { version?: number }).version === 2,
          'config/reported for version 2',
        );
        assert.is((applied.json as { status: string }).status, 'applied');
        assert.not.match(JSON.stringify(applied.json), /pw-20[15]-secret/, 'no secret is published');

        const port = await freePortBlock(10);
        const nurse = await BaresipPhone.start({
          name: 'nurse',
          listenIp: '127.0.0.1',
          sipPort: port,
          user: '205',
          registrar: { host: '127.0.0.1', port: sipPort, password: 'pw-205-secret', regintSec: 300 },
          toneWav: await makeTone({ path: join(dir, 'n.wav'), freqHz: 800, seconds: 20 }),
          workDir: join(dir, 'nurse'),
        });
        phones.push(nurse);
        await nurse.waitFor('REGISTER_OK', { timeoutMs: 10_000 });

        // v3 is invalid (a hunt group member that does not exist): rejected, v2 keeps running.
        const v3 = { ...practice(3, [{ number: '201', name: 'Reception 1', password: 'pw-201-secret' }]), huntGroups: [{ number: '600', name: 'R', strategy: 'ring-all', members: ['299'], ringSeconds: 20 }] };
        await cloud.publish(`pgw/v1/${DEVICE}/config/desired`, { version: 3, practice: v3 }, { qos: 1, retain: true });
        const rejected = await cloud.waitFor(
          (m) => m.topic.endsWith('/config/reported') && (m.json as { version?: number }).version === 3,
          'config/reported for version 3',
        );
        const r = rejected.json as { status: string; errors: Array<{ path: string }> };
        assert.is(r.status, 'rejected');
        assert.ok(r.errors.some((e) => e.path.startsWith('practice.huntGroups[0].members')), JSON.stringify(r.errors));
        const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1/status`);
        const status = (await res.json()) as { configVersion: number; registrations: number };
        assert.is(status.configVersion, 2, 'v2 still runs');
        assert.is(status.registrations, 1, 'the new extension is registered');

        // An older version is ignored: the report keeps telling the applied version.
        await cloud.publish(`pgw/v1/${DEVICE}/config/desired`, { version: 1, practice: v1 }, { qos: 1, retain: true });
        await cloud.waitFor((m) => m.topic.endsWith('/events') && JSON.stringify(m.json).includes('ignored'), 'an ignored event');
        const after = (await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/status`)).json()) as { configVersion: number };
        assert.is(after.configVersion, 2);
      })(),
      60_000,
      'config push against the gateway',
    );
  } finally {
    for (const p of phones) await p.stop().catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    await cloud?.end().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
