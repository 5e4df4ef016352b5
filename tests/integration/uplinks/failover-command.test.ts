/**
 * `cmd/failover-test` end to end (issue 6): the cloud publishes the command
 * with a Response Topic on a real mosquitto; the real gateway answers with
 * every uplink probed now, and on `{ "simulate": "hscn-down" }` goes to
 * survivability for the given seconds and back, while an external call over
 * the cloud carries on untouched.
 *
 * Everything is on the loopback: the gateway and the desk phone on
 * 127.0.0.1, the cloud SBC (Kamailio, with a baresip far end) on 127.0.0.2
 * and the trunk's registrar (Kamailio) on 127.0.0.3, so that each peer is
 * told apart by its source address as on a real box.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeWav, makeTone, withinPercent } from '../../support/audio.js';
import { BaresipPhone } from '../../support/baresip.js';
import { startGateway, testPractice, type GatewayUnderTest } from '../../support/gateway.js';
import { startKamailio, type KamailioProcess } from '../../support/kamailio.js';
import { freePortBlock, freeUdpPort } from '../../support/ports.js';
import { sleep, waitUntil, withTimeout } from '../../support/proc.js';
import { CloudClient, type Received } from '../sync/support/cloud.js';
import { startMosquitto, type Mosquitto } from '../sync/support/mosquitto.js';

const DEVICE = 'pgw-test';
const CLOUD_IP = '127.0.0.2';
const TRUNK_IP = '127.0.0.3';
const PROBE = { intervalMs: 300, failAfter: 2, recoverAfterMs: 2000 };
const TONES = { alice: 1000, far: 700 };

interface Status {
  mode: string;
  uplinks: Array<{ name: string; state: string }>;
}

interface FailoverReply {
  ok: boolean;
  command: string;
  result?: {
    test: string;
    mode: string;
    uplinks: Array<{ name: string; kind: string; state: string; health: string; peer: string | null; registration: unknown; probe: { ok: boolean; status: number | string; rttMs: number | null } }>;
    wouldCarry: { external: string | null; emergency: string[] };
    simulation: { simulate: string; until: string; secondsLeft: number } | null;
  };
  error?: { code: string; message: string };
}

test('cmd/failover-test over MQTT: a probe of every uplink, then a simulated HSCN outage that leaves the call up', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-fotest-'));
  let broker: Mosquitto | undefined;
  let gw: GatewayUnderTest | undefined;
  let cloud: CloudClient | undefined;
  const kams: KamailioProcess[] = [];
  const phones: BaresipPhone[] = [];
  try {
    await withTimeout(
      (async () => {
        broker = await startMosquitto();
        const sipPort = await freeUdpPort();
        const adminPort = await freeUdpPort();
        const cloudPort = await freeUdpPort(CLOUD_IP, false);
        const trunkPort = await freeUdpPort(TRUNK_IP, false);
        // The cloud SBC: public numbers go to its far end.
        kams.push(
          await startKamailio({
            listenIp: CLOUD_IP,
            port: cloudPort,
            proxy: true,
            users: [{ user: 'farend', password: 'farend-pw' }],
            workDir: mkdirp(join(dir, 'kam-cloud')),
            extraRequestRoute: `
  if (is_method("INVITE") && !has_totag() && $rU =~ "^[+]44") { $rU = "farend"; }`,
          }),
        );
        // The backup trunk's registrar.
        kams.push(
          await startKamailio({ listenIp: TRUNK_IP, port: trunkPort, users: [{ user: 'riverside', password: 'trunk-secret-9Jd' }], workDir: mkdirp(join(dir, 'kam-trunk')) }),
        );
        const farPort = await freePortBlock(10);
        const far = await BaresipPhone.start({
          name: 'far',
          listenIp: CLOUD_IP,
          sipPort: farPort,
          user: 'farend',
          registrar: { host: CLOUD_IP, port: cloudPort, password: 'farend-pw', regintSec: 300 },
          toneWav: await makeTone({ path: join(dir, 'far.wav'), freqHz: TONES.far, seconds: 60 }),
          workDir: join(dir, 'far'),
          answerMode: 'auto',
        });
        phones.push(far);
        await far.waitFor('REGISTER_OK', { timeoutMs: 10_000 });

        const p = testPractice({ extensions: [{ number: '201', name: 'Reception 1', password: 'pw-201-secret' }] });
        const practice = {
          ...p,
          sip: { ...(p.sip as object), listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }] },
          uplinks: {
            cloud: { proxy: `sip:${CLOUD_IP}:${cloudPort}`, probe: PROBE },
            trunks: [{ name: 'backup', registrar: `sip:${TRUNK_IP}:${trunkPort}`, username: 'riverside', password: 'trunk-secret-9Jd', probe: PROBE }],
          },
        };
        cloud = await CloudClient.connect(broker.url);
        await cloud.subscribe(`pgw/v1/${DEVICE}/#`);
        gw = await startGateway({
          dir: join(dir, 'gw'),
          practice,
          device: { admin: { listen: `127.0.0.1:${adminPort}` }, cloud: { mqtt: { url: broker.url } } },
        });
        const c = cloud;
        await c.waitFor((m) => m.topic.endsWith('/status') && (m.json as { online?: boolean })?.online === true, 'the box online');
        const status = async (): Promise<Status> => (await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/status`)).json()) as Status;
        await waitUntil(async () => {
          const s = await status();
          return s.mode === 'normal' && s.uplinks.every((u) => u.state === 'up' || u.state === 'standby') ? s : undefined;
        }, { timeoutMs: 10_000, what: 'normal mode with both uplinks healthy' });

        // 1. The probe: nothing moves, each uplink's figures come back.
        const probe = (await c.request(DEVICE, 'failover-test')) as FailoverReply;
        assert.ok(probe.ok, JSON.stringify(probe));
        const r = probe.result!;
        assert.is(r.test, 'probe');
        assert.is(r.mode, 'normal');
        const [cu, tu] = r.uplinks;
        assert.equal([cu?.name, cu?.kind, cu?.state, cu?.peer, cu?.registration], ['cloud', 'cloud', 'up', `udp:${CLOUD_IP}:${cloudPort}`, null]);
        assert.equal([tu?.name, tu?.kind, tu?.state, tu?.peer, tu?.registration], ['backup', 'trunk', 'standby', `udp:${TRUNK_IP}:${trunkPort}`, 'registered']);
        for (const u of r.uplinks) {
          assert.is(u.probe.ok, true, `${u.name} answered`);
          assert.is(u.probe.status, 200);
          assert.ok(typeof u.probe.rttMs === 'number' && u.probe.rttMs >= 0 && u.probe.rttMs < 1000, `${u.name} rtt ${u.probe.rttMs}`);
        }
        assert.equal(r.wouldCarry, { external: 'cloud', emergency: ['cloud', 'backup'] });
        assert.is(r.simulation, null);

        // 2. An external call over the cloud.
        const alicePort = await freePortBlock(10);
        const alice = await BaresipPhone.start({
          name: 'alice',
          listenIp: '127.0.0.1',
          sipPort: alicePort,
          user: '201',
          registrar: { host: '127.0.0.1', port: sipPort, password: 'pw-201-secret', regintSec: 300 },
          toneWav: await makeTone({ path: join(dir, 'alice.wav'), freqHz: TONES.alice, seconds: 60 }),
          workDir: join(dir, 'alice'),
        });
        phones.push(alice);
        await alice.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
        const farMark = far.events.length;
        await alice.dial(`sip:01632960123@127.0.0.1:${sipPort}`);
        await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        await far.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000, since: farMark });

        // 3. HSCN simulated down for 3 s: survivability at once, the trunk carries new calls.
        const eventsMark = c.messages.length;
        const sim = (await c.request(DEVICE, 'failover-test', { simulate: 'hscn-down', seconds: 3 })) as FailoverReply;
        assert.ok(sim.ok, JSON.stringify(sim));
        assert.is(sim.result!.test, 'hscn-down');
        assert.is(sim.result!.mode, 'survivability');
        assert.equal(sim.result!.wouldCarry.external, 'backup');
        assert.ok(sim.result!.simulation && sim.result!.simulation.secondsLeft <= 3 && sim.result!.simulation.secondsLeft >= 2, JSON.stringify(sim.result!.simulation));
        const during = await status();
        assert.is(during.mode, 'survivability');
        assert.equal(during.uplinks, [
          { name: 'cloud', state: 'standby' },
          { name: 'backup', state: 'up' },
        ]);
        const modeEvent = (reason: string) => (m: Received) => m.topic.endsWith('/events') && (m.json as { type?: string; reason?: string }).type === 'mode' && (m.json as { reason?: string }).reason === reason;
        const down = await c.waitFor((m) => c.messages.indexOf(m) >= eventsMark && modeEvent('failover-test')(m), 'the mode event of the test');
        assert.is((down.json as { mode: string }).mode, 'survivability');
        // 4. The time is up: the cloud still answers, so the gateway is normal again.
        const back = await c.waitFor((m) => c.messages.indexOf(m) >= eventsMark && modeEvent('failover-test-over')(m), 'the mode event at the end of the test', 8_000);
        assert.is((back.json as { mode: string; previous: string }).mode, 'normal');
        assert.is((await status()).mode, 'normal');

        // 5. The call over the cloud never noticed.
        await sleep(1000);
        assert.not.ok(alice.events.some((e) => e.type === 'CALL_CLOSED'), 'alice still in the call');
        assert.not.ok(far.events.slice(farMark).some((e) => e.type === 'CALL_CLOSED'), 'the far end still in the call');
        await alice.hangup();
        await far.waitFor('CALL_CLOSED', { timeoutMs: 5_000, since: farMark });
        assert.ok(withinPercent(analyzeWav(alice.recordedWav()).dominantHz, TONES.far), 'alice heard the far end');
        assert.ok(withinPercent(analyzeWav(far.recordedWav()).dominantHz, TONES.alice), 'the far end heard alice');

        // 6. Parameters it does not take are refused with the reason.
        const bad = (await c.request(DEVICE, 'failover-test', { simulate: 'hscn-down', seconds: 3600 })) as FailoverReply;
        assert.is(bad.ok, false);
        assert.match(bad.error!.message, /seconds must be a whole number from 1 to 300/);
        assert.is((await status()).mode, 'normal', 'a refused request changes nothing');
      })(),
      90_000,
      'failover-test over MQTT',
    );
  } catch (e) {
    if (process.env.PGW_TEST_DEBUG) console.log(gw?.proc.output.toString().slice(-15000));
    throw e;
  } finally {
    for (const p of phones) await p.stop().catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    for (const k of kams) await k.stop().catch(() => undefined);
    await cloud?.end().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

test.run();
