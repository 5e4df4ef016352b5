/**
 * Issue 2's proof: two desk phones (baresip) register to the gateway with
 * digest auth and call each other through it. Each plays its own tone and
 * records what it hears; each must hear the other's frequency, and its RTP
 * must come from the gateway's address and RTP port pool (the call is
 * anchored), never from the other phone.
 */
import { test } from 'uvu';
import type { CallView } from '../../../firmware/src/admin/status-provider.js';
import * as assert from 'uvu/assert';
import { analyzeWav, withinPercent } from '../../support/audio.js';
import { sleep, withTimeout } from '../../support/proc.js';
import { aliceCallsBob, createPbxWorld } from './world.js';

test('two phones register with digest and call each other with media anchored on the gateway', async () => {
  const w = await createPbxWorld({ subnet: '10.91.1.0/24' });
  try {
    await withTimeout(
      (async () => {
        const { alice, bob } = await aliceCallsBob(w);
        await sleep(3_000);
        // The admin API shows the call with each leg's media: the gateway's port, and the phone's
        // address both as latched and as its SDP gave it (the same here: no NAT).
        const { calls } = await w.api<{ calls: CallView[] }>('/api/v1/calls');
        assert.is(calls.length, 1);
        assert.is(calls[0]!.state, 'answered');
        for (const leg of calls[0]!.legs) {
          const m = leg.media!;
          assert.ok(m, `${leg.role} leg has media`);
          assert.match(m.local, new RegExp(`^${w.gwAddr.replace(/\./g, '\\.')}:20\\d{3}$`));
          assert.is(m.remote, m.sdpRemote, `${leg.role}: latched where the SDP said`);
          assert.match(m.remote ?? '', new RegExp(`^${w.lanAddr.replace(/\./g, '\\.')}:\\d+$`));
          assert.ok(m.packetsIn > 50 && m.packetsOut > 50, `${leg.role}: ${m.packetsIn} in, ${m.packetsOut} out`);
        }
        await alice.hangup();
        await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });

        if (process.env.PGW_TEST_DEBUG) {
          console.log(alice.log().slice(-12000));
          console.log(w.gw.proc.output.toString().slice(-12000));
        }
        const heardByAlice = analyzeWav(alice.recordedWav());
        const heardByBob = analyzeWav(bob.recordedWav());
        assert.ok(withinPercent(heardByAlice.dominantHz, 1500), `alice heard ${heardByAlice.dominantHz} Hz`);
        assert.ok(withinPercent(heardByBob.dominantHz, 1000), `bob heard ${heardByBob.dominantHz} Hz`);
        assert.ok(heardByAlice.activeSec > 1.5, `alice heard ${heardByAlice.activeSec} s of audio`);
        assert.ok(heardByBob.activeSec > 1.5, `bob heard ${heardByBob.activeSec} s of audio`);

        for (const [who, phone] of [['alice', alice], ['bob', bob]] as const) {
          const src = phone.rtpSources()[0];
          assert.ok(src, `${who} logged where its RTP came from`);
          assert.is(src.ip, w.gwAddr, `${who}'s RTP came from the gateway`);
          assert.ok(src.port >= 20000 && src.port <= 20999, `${who}'s RTP came from the gateway's port pool (${src.port})`);
        }
        // The INVITE was challenged and the gateway logged the call's life.
        assert.match(alice.log(), /SIP\/2\.0 407 Proxy Authentication Required/);
        await w.gw.waitForLog((l) => l.msg === 'call ended' && l.disposition === 'answered', 5_000);
      })(),
      60_000,
      'basic call',
    );
  } finally {
    await w.close();
  }
});

test.run();
