/**
 * Dead calls (issue 2: "no RTP for a configurable time: hung up and logged").
 * A desk phone calls a far end that answers but never sends RTP (SIPp
 * uas-answer.xml streams nothing). With calls.deadMediaSeconds = 5 the gateway
 * must send BYE to both legs about 5 s after the answer and log why; a call
 * on hold is not dead (RFC 3264 §8.4: no media is expected), so holding it
 * for longer than that must not end it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testPractice } from '../../support/gateway.js';
import { sleep, withTimeout } from '../../support/proc.js';
import { createPbxWorld, EXTENSIONS, type PbxWorld } from './world.js';

let w: PbxWorld;

test.before(async () => {
  w = await createPbxWorld({ subnet: '10.91.9.0/24', practice: testPractice({ extensions: EXTENSIONS, calls: { deadMediaSeconds: 5 } }) });
});

test.after(async () => {
  await w.close();
});

test('a callee that sends no RTP: BYE to both legs after deadMediaSeconds, logged', async () => {
  await withTimeout(
    (async () => {
      const alice = await w.phone({ name: 'alice', ext: '201', freqHz: 1000, sipPort: 5060 });
      await alice.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
      const uas = await w.sippUas({ scenario: 'uas-answer.xml', ext: '202', port: 5080 });

      await alice.dial(`sip:202@${w.gwAddr}`);
      await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
      const answeredAt = Date.now();
      const closed = await alice.waitFor('CALL_CLOSED', { timeoutMs: 12_000 });
      const after = Date.now() - answeredAt;
      assert.ok(after >= 4_500 && after <= 8_000, `hung up ${after} ms after the answer (deadMediaSeconds 5)`);
      assert.match(alice.log(), /BYE sip:/, 'the phone got a BYE');
      assert.ok(closed.param !== undefined);

      // The silent far end got its BYE too: uas-answer.xml ends (successfully) on it.
      const res = await withTimeout(uas.done, 5_000, 'the SIPp callee to get its BYE');
      assert.ok(res.ok, res.report);

      const warn = await w.gw.waitForLog((l) => l.msg === 'no media on an answered call: hanging up', 2_000);
      assert.match(String(warn.leg), /\/b$/, 'the silent leg is the callee’s');
      const ended = await w.callEnded((l) => l.cause === 'dead-media');
      assert.is(ended.disposition, 'answered');
      await alice.stop();
    })(),
    40_000,
    'dead media',
  );
});

test('a call on hold for longer than deadMediaSeconds stays up; taken off hold with no media it is hung up', async () => {
  await withTimeout(
    (async () => {
      const alice = await w.phone({ name: 'alice2', ext: '201', freqHz: 1000, sipPort: 5060 });
      await alice.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
      const uas = await w.sippUas({ scenario: 'uas-answer.xml', ext: '202', port: 5081 });

      await alice.dial(`sip:202@${w.gwAddr}`);
      await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
      await alice.hold();
      await sleep(8_000);
      assert.not.ok(alice.events.some((e) => e.type === 'CALL_CLOSED'), 'held for 8 s and still up');
      await alice.resume();
      const resumedAt = Date.now();
      await alice.waitFor('CALL_CLOSED', { timeoutMs: 12_000 });
      const after = Date.now() - resumedAt;
      assert.ok(after >= 4_000 && after <= 8_000, `hung up ${after} ms after the resume`);
      const res = await withTimeout(uas.done, 5_000, 'the SIPp callee to get its BYE');
      assert.ok(res.ok, res.report);
      await waitDeadMediaEnds(2);
    })(),
    45_000,
    'dead media and hold',
  );
});

async function waitDeadMediaEnds(n: number): Promise<void> {
  await w.gw.waitForLog(() => w.gw.logs().filter((l) => l.msg === 'call ended' && l.cause === 'dead-media').length >= n, 3_000);
}

test.run();
