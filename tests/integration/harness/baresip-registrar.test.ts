/**
 * Proves the phone harness against a real registrar, the shape of the gateway
 * tests: two baresip phones in a "lan" namespace register with digest auth to
 * Kamailio (registrar + proxy) in a "core" namespace, and one calls the other
 * through it by extension number (Kamailio challenges the INVITE with 407,
 * as a trunk provider would); each hears the other's tone. A phone with a
 * wrong password gets REGISTER_FAIL.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeWav, makeTone, withinPercent } from '../../support/audio.js';
import { BaresipPhone } from '../../support/baresip.js';
import { startKamailio } from '../../support/kamailio.js';
import type { KamailioProcess } from '../../support/kamailio.js';
import { createTopology } from '../../support/netns.js';
import type { Topology } from '../../support/netns.js';
import { sleep, withTimeout } from '../../support/proc.js';

test('phones register to Kamailio and call each other through it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-breg-'));
  let topo: Topology | undefined;
  let k: KamailioProcess | undefined;
  const phones: BaresipPhone[] = [];
  try {
    await withTimeout(
      (async () => {
        topo = await createTopology({ nodes: ['core', 'lan'], links: [{ a: 'core', b: 'lan', subnet: '10.90.3.0/24' }] });
        const core = topo.addr('core', 'lan');
        const lan = topo.addr('lan', 'core');
        k = await startKamailio({
          netns: topo.ns('core'), listenIp: core, port: 5060, proxy: true, challengeInvites: true,
          users: [{ user: '201', password: 'pw201' }, { user: '202', password: 'pw202' }, { user: '203', password: 'pw203' }],
        });
        const start = async (name: string, user: string, password: string, sipPort: number, freqHz: number): Promise<BaresipPhone> => {
          const p = await BaresipPhone.start({
            name, netns: topo!.ns('lan'), listenIp: lan, sipPort, user,
            registrar: { host: core, port: 5060, password, regintSec: 120 },
            toneWav: await makeTone({ path: join(dir, `${name}.wav`), freqHz, seconds: 30 }),
            workDir: join(dir, name),
            sipTrace: name === 'alice',
          });
          phones.push(p);
          return p;
        };
        // Same namespace and address: SIP ports 10 apart (TLS takes +1, ctrl_tcp +5).
        const alice = await start('alice', '201', 'pw201', 5060, 1000);
        const bob = await start('bob', '202', 'pw202', 5070, 1500);
        const carol = await start('carol', '203', 'not-her-password', 5080, 500);

        await alice.waitFor('REGISTER_OK', { timeoutMs: 5_000 });
        await bob.waitFor('REGISTER_OK', { timeoutMs: 5_000 });
        const fail = await carol.waitFor('REGISTER_FAIL', { timeoutMs: 10_000 });
        assert.match(fail.param ?? '', /40[13]/, `carol's failure names the status: ${fail.param}`);
        assert.is(carol.events.filter((e) => e.type === 'REGISTER_OK').length, 0);

        await alice.dial(`sip:202@${core}`);
        const ringing = await alice.waitFor(['CALL_RINGING', 'CALL_ESTABLISHED'], { timeoutMs: 5_000 });
        assert.ok(ringing);
        await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        await bob.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        await sleep(2_500);
        await bob.hangup();
        await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });

        const heardByAlice = analyzeWav(alice.recordedWav());
        const heardByBob = analyzeWav(bob.recordedWav());
        assert.ok(withinPercent(heardByAlice.dominantHz, 1500), `alice heard ${heardByAlice.dominantHz} Hz`);
        assert.ok(withinPercent(heardByBob.dominantHz, 1000), `bob heard ${heardByBob.dominantHz} Hz`);
        assert.match(alice.log(), /SIP\/2\.0 407 Proxy Authentication Required/, 'the INVITE was challenged');
        // Kamailio proxies signalling only: media flowed phone to phone.
        assert.equal(alice.rtpSources()[0]?.ip, lan);
      })(),
      45_000,
      'baresip through kamailio',
    );
  } finally {
    for (const p of phones) await p.stop();
    await k?.stop();
    await topo?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
