/**
 * A ring-all hunt group (reception's three desks): a call to the group rings
 * every member's phone at once; the first to pick up gets the call, the
 * others are CANCELled and stop ringing, and audio flows both ways between
 * the caller and the phone that answered, anchored on the gateway. The
 * phones show who is calling (display name and P-Asserted-Identity).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyzeWav, withinPercent } from '../../support/audio.js';
import { testPractice } from '../../support/gateway.js';
import { sleep, withTimeout } from '../../support/proc.js';
import { createPbxWorld, EXTENSIONS } from './world.js';

test('ring-all: every member rings, one answers, the others are cancelled, audio both ways', async () => {
  const w = await createPbxWorld({
    subnet: '10.91.6.0/24',
    practice: testPractice({
      extensions: EXTENSIONS,
      huntGroups: [{ number: '600', name: 'Reception', strategy: 'ring-all', members: ['202', '203', '204'], ringSeconds: 20 }],
    }),
  });
  try {
    await withTimeout(
      (async () => {
        const alice = await w.phone({ name: 'alice', ext: '201', freqHz: 1000, sipPort: 5060 });
        const bob = await w.phone({ name: 'bob', ext: '202', freqHz: 1200, sipPort: 5070, answerMode: 'manual' });
        const carol = await w.phone({ name: 'carol', ext: '203', freqHz: 1500, sipPort: 5080, answerMode: 'manual' });
        const dave = await w.phone({ name: 'dave', ext: '204', freqHz: 800, sipPort: 5090, answerMode: 'manual' });
        for (const p of [alice, bob, carol, dave]) await p.waitFor('REGISTER_OK', { timeoutMs: 10_000 });

        await alice.dial(`sip:600@${w.gwAddr}`);
        for (const p of [bob, carol, dave]) await p.waitFor('CALL_INCOMING', { timeoutMs: 5_000 });
        await alice.waitFor('CALL_RINGING', { timeoutMs: 2_000 });
        await sleep(500);
        await carol.accept();
        await carol.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        for (const p of [bob, dave]) {
          await p.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
          assert.not.ok(p.events.some((e) => e.type === 'CALL_ESTABLISHED'), `${p.opts.name} never got the call`);
          assert.match(p.log(), /CANCEL sip:/, `${p.opts.name}'s ringing leg was CANCELled`);
        }

        await sleep(3_000);
        await alice.hangup();
        await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        await carol.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });

        const heardByAlice = analyzeWav(alice.recordedWav());
        const heardByCarol = analyzeWav(carol.recordedWav());
        assert.ok(withinPercent(heardByAlice.dominantHz, 1500), `alice heard ${heardByAlice.dominantHz} Hz (carol plays 1500)`);
        assert.ok(withinPercent(heardByCarol.dominantHz, 1000), `carol heard ${heardByCarol.dominantHz} Hz (alice plays 1000)`);
        assert.ok(heardByAlice.activeSec > 1.5 && heardByCarol.activeSec > 1.5, 'audio both ways for the call');
        for (const p of [alice, carol]) assert.is(p.rtpSources()[0]?.ip, w.gwAddr, `${p.opts.name}'s RTP came from the gateway`);

        // Caller ID on the ringing phones: alice's name and number, never the phone's own address.
        const invite = /INVITE sip:203\S*@[\s\S]*?\n\s*\n/.exec(carol.log())?.[0] ?? '';
        assert.match(invite, /From: "Reception 1" <sip:201@/);
        assert.match(invite, /P-Asserted-Identity: "Reception 1" <sip:201@/);
        assert.not.match(invite, new RegExp(w.lanAddr.replace(/\./g, '\\.') + ':5060'), 'the caller phone address is not shown');

        // Carol's RTP came from the very port the gateway offered her (symmetric RTP on the callee leg).
        const offeredPort = Number(/^m=audio (\d+) /m.exec(/INVITE sip:203\S*@[\s\S]*?\nm=audio \d+ .*/.exec(carol.log())?.[0] ?? '')?.[1]);
        assert.is(carol.rtpSources()[0]?.port, offeredPort, 'carol is fed from the port in her offer');

        const ended = await w.callEnded();
        assert.is(ended.disposition, 'answered');
        assert.is(w.gw.logs().find((l) => l.msg === 'call answered')?.callee, '203');
      })(),
      60_000,
      'ring-all',
    );
  } finally {
    await w.close();
  }
});

test.run();
