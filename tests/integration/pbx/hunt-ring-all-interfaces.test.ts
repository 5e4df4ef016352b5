/**
 * A ring-all hunt group whose members' phones are reached through different
 * interfaces of the gateway: bob on the LAN, carol on a second subnet (its own
 * namespace, its own gateway address). The INVITE each phone gets must offer
 * the gateway's address on the interface that faces it, or the phone sends its
 * audio to an address it may not reach and hears nothing from the right one
 * (TESTING-NOTES: a wrong one gives one-way or no audio). Carol answers: the
 * audio goes both ways through her interface, and bob's ringing is CANCELled.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyzeWav, withinPercent } from '../../support/audio.js';
import { testPractice } from '../../support/gateway.js';
import { sleep, withTimeout } from '../../support/proc.js';
import { createPbxWorld, EXTENSIONS } from './world.js';

/** The SDP of the first INVITE to `ext` in a baresip SIP trace. */
function offerIn(log: string, ext: string): string {
  return new RegExp(`INVITE sip:${ext}\\S*@[\\s\\S]*?\\nm=audio \\d+ [^\\n]*`).exec(log)?.[0] ?? '';
}
const esc = (s: string): string => s.replace(/\./g, '\\.');

test('ring-all across two interfaces: each phone is offered the gateway address facing it; whichever answers is bridged there', async () => {
  const w = await createPbxWorld({
    subnet: '10.91.20.0/24',
    secondLan: '10.91.21.0/24',
    practice: testPractice({
      extensions: EXTENSIONS,
      huntGroups: [{ number: '600', name: 'Reception', strategy: 'ring-all', members: ['202', '203'], ringSeconds: 20 }],
    }),
  });
  try {
    await withTimeout(
      (async () => {
        const gwLan = w.gwAddr;
        const gwLan2 = w.gwAddr2!;
        const alice = await w.phone({ name: 'alice', ext: '201', freqHz: 1000, sipPort: 5060 });
        const bob = await w.phone({ name: 'bob', ext: '202', freqHz: 1200, sipPort: 5070, answerMode: 'manual' });
        const carol = await w.phone({ name: 'carol', ext: '203', freqHz: 1500, sipPort: 5080, answerMode: 'manual', on: 'lan2' });
        for (const p of [alice, bob, carol]) await p.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
        const members = [
          { phone: bob, ext: '202', gw: gwLan, hz: 1200 },
          { phone: carol, ext: '203', gw: gwLan2, hz: 1500 },
        ];

        // Twice: carol (second subnet) answers, then bob (LAN). Which fork's leg opens last
        // depends on timing; a call whose answering phone's leg had been replaced by the
        // other fork's would have no audio.
        for (const [round, answerer] of [members[1]!, members[0]!].entries()) {
          const loser = members.find((m) => m !== answerer)!;
          const logsFrom = { alice: alice.log().length, bob: bob.log().length, carol: carol.log().length };
          const since = (p: typeof alice, name: keyof typeof logsFrom): string => p.log().slice(logsFrom[name]);
          await alice.dial(`sip:600@${gwLan}`);
          for (const m of members) await m.phone.waitFor('CALL_INCOMING', { timeoutMs: 5_000 });

          const offers = members.map((m) => offerIn(since(m.phone, m.phone === bob ? 'bob' : 'carol'), m.ext));
          members.forEach((m, i) => {
            assert.match(offers[i]!, new RegExp(`\\nc=IN IP4 ${esc(m.gw)}\\s`), `${m.phone.opts.name} is offered ${m.gw}:\n${offers[i]}`);
          });
          assert.not.match(offers[1]!, new RegExp(esc(gwLan)), 'nothing of the LAN address in carol’s INVITE');

          await sleep(500);
          await answerer.phone.accept();
          await answerer.phone.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
          await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
          await loser.phone.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
          assert.match(since(loser.phone, loser.phone === bob ? 'bob' : 'carol'), /CANCEL sip:/, `${loser.phone.opts.name}’s ringing leg was CANCELled`);

          // What the gateway holds for the call: the callee leg on the answerer's interface.
          const { calls } = await w.api<{ calls: Array<{ legs: Array<{ role: string; media: { local: string } | null }> }> }>('/api/v1/calls');
          const legs = calls[0]?.legs ?? [];
          assert.is(legs.find((l) => l.role === 'caller')?.media?.local.split(':')[0], gwLan);
          assert.is(legs.find((l) => l.role === 'callee')?.media?.local.split(':')[0], answerer.gw, JSON.stringify(calls));

          await sleep(3_000);
          await alice.hangup();
          await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
          await answerer.phone.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });

          const heardByAlice = analyzeWav(alice.recordedWav());
          const heardByAnswerer = analyzeWav(answerer.phone.recordedWav());
          const who = answerer.phone.opts.name;
          assert.ok(withinPercent(heardByAlice.dominantHz, answerer.hz), `alice heard ${heardByAlice.dominantHz} Hz (${who} plays ${answerer.hz})`);
          assert.ok(withinPercent(heardByAnswerer.dominantHz, 1000), `${who} heard ${heardByAnswerer.dominantHz} Hz (alice plays 1000)`);
          assert.ok(heardByAlice.activeSec > 1.5 && heardByAnswerer.activeSec > 1.5, 'audio both ways for the call');
          assert.is(alice.rtpSources().at(-1)?.ip, gwLan, 'alice is fed from the LAN address');
          assert.is(answerer.phone.rtpSources().at(-1)?.ip, answerer.gw, `${who} is fed from the address facing it`);
          const offeredPort = Number(/\nm=audio (\d+) /.exec(offers[members.indexOf(answerer)]!)?.[1]);
          assert.is(answerer.phone.rtpSources().at(-1)?.port, offeredPort, 'from the very port in its offer');

          const endedLines = (): Array<Record<string, unknown>> => w.gw.logs().filter((l) => l.msg === 'call ended');
          await w.gw.waitForLog(() => endedLines().length > round, 10_000);
          assert.is(endedLines()[round]?.disposition, 'answered');
          assert.is(w.gw.logs().filter((l) => l.msg === 'call answered')[round]?.callee, answerer.ext);
        }
      })(),
      90_000,
      'ring-all across interfaces',
    );
  } finally {
    await w.close();
  }
});

test.run();
