/**
 * Sequential hunt groups: members ring one after another, each for the
 * group's ringSeconds; a member who cannot take the call (no phone
 * registered, or busy: 486) is skipped at once instead of costing the caller
 * a ring period.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testPractice } from '../../support/gateway.js';
import { waitUntil, withTimeout } from '../../support/proc.js';
import { createPbxWorld, EXTENSIONS, type PbxWorld } from './world.js';

let w: PbxWorld;

test.before(async () => {
  w = await createPbxWorld({
    subnet: '10.91.11.0/24',
    practice: testPractice({
      extensions: EXTENSIONS,
      huntGroups: [
        { number: '601', name: 'Dispensary', strategy: 'sequential', members: ['202', '203'], ringSeconds: 3 },
        // 205 has no phone, 204 is a SIPp that answers 486: both must cost nothing.
        { number: '602', name: 'Admin', strategy: 'sequential', members: ['205', '204', '203'], ringSeconds: 3 },
      ],
    }),
  });
});

test.after(async () => {
  await w.close();
});

test('the first member does not answer in ringSeconds: it stops ringing, the second rings and answers', async () => {
  await withTimeout(
    (async () => {
      const alice = await w.phone({ name: 'alice', ext: '201', freqHz: 1000, sipPort: 5060 });
      const bob = await w.phone({ name: 'bob', ext: '202', freqHz: 1200, sipPort: 5070, answerMode: 'manual' });
      const carol = await w.phone({ name: 'carol', ext: '203', freqHz: 1500, sipPort: 5080, answerMode: 'manual' });
      for (const p of [alice, bob, carol]) await p.waitFor('REGISTER_OK', { timeoutMs: 10_000 });

      await alice.dial(`sip:601@${w.gwAddr}`);
      const bobRang = await bob.waitFor('CALL_INCOMING', { timeoutMs: 5_000 });
      const bobRangAt = Date.now();
      await carol.waitFor('CALL_INCOMING', { timeoutMs: 8_000 });
      const gap = Date.now() - bobRangAt;
      const bobStopped = await bob.waitFor('CALL_CLOSED', { timeoutMs: 1_000 });
      const ringMs = bobStopped.atMs - bobRang.atMs; // one phone's clock
      assert.ok(ringMs >= 2_700 && ringMs <= 4_500, `bob rang for ~3 s (${ringMs} ms)`);
      assert.ok(gap >= 2_700 && gap <= 4_500, `carol started ringing when bob's turn ended (${gap} ms after bob)`);

      await carol.accept();
      await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
      await carol.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
      assert.not.ok(bob.events.some((e) => e.type === 'CALL_ESTABLISHED'));
      await alice.hangup();
      await carol.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
      const ended = await w.callEnded();
      assert.is(ended.disposition, 'answered');
      await alice.stop();
      await bob.stop();
      await carol.stop();
    })(),
    45_000,
    'sequential: no answer moves on',
  );
});

test('an unregistered and a busy member are skipped at once', async () => {
  await withTimeout(
    (async () => {
      const alice = await w.phone({ name: 'alice2', ext: '201', freqHz: 1000, sipPort: 5060 });
      const carol = await w.phone({ name: 'carol2', ext: '203', freqHz: 1500, sipPort: 5080, answerMode: 'manual' });
      for (const p of [alice, carol]) await p.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
      const busy = await w.sippUas({ scenario: 'uas-busy.xml', ext: '204', port: 5100 });

      const dialled = Date.now();
      await alice.dial(`sip:602@${w.gwAddr}`);
      await carol.waitFor('CALL_INCOMING', { timeoutMs: 5_000 });
      const waited = Date.now() - dialled;
      assert.ok(waited < 1_500, `carol rang ${waited} ms after the dial: 205 and 204 cost no ring time`);
      const res = await busy.stop(2_000);
      assert.ok(res.ok, `the busy member was tried: ${res.report}`);

      await carol.accept();
      await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
      await alice.hangup();
      await carol.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
      // This file's second answered call (the first test's was the first).
      await waitUntil(() => w.gw.logs().filter((l) => l.msg === 'call ended' && l.disposition === 'answered').length === 2, {
        timeoutMs: 5_000,
        what: 'the call logged as answered',
      });
      assert.is(w.gw.logs().filter((l) => l.msg === 'call answered').at(-1)?.callee, '203');
    })(),
    45_000,
    'sequential: skip',
  );
});

test.run();
