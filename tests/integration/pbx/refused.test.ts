/**
 * Calls that cannot be put through, each with the answer the caller's phone
 * needs to show the right thing (RFC 3261 §21.4):
 * - the callee is busy (SIPp answers 486): the caller gets 486 Busy Here;
 * - nobody answers within the practice's ringSeconds: 480;
 * - an unknown number: 404 with a clear reason;
 * - an extension with no phone registered: 480.
 * The caller is SIPp (uac-call-refused.xml, authenticated as 201); which
 * final response came is read from its message trace.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testPractice } from '../../support/gateway.js';
import { withTimeout } from '../../support/proc.js';
import type { SippResult } from '../../support/sipp.js';
import { createPbxWorld, EXTENSIONS, type PbxWorld } from './world.js';

let w: PbxWorld;

test.before(async () => {
  w = await createPbxWorld({ subnet: '10.91.5.0/24', practice: testPractice({ extensions: EXTENSIONS, calls: { ringSeconds: 2 } }) });
});

test.after(async () => {
  await w.close();
});

/** The final status line SIPp received for its INVITE (after any 407). */
function finalStatus(res: SippResult): string {
  const lines = [...res.messages.matchAll(/message received[^\n]*\n\s*(SIP\/2\.0 ([3-6]\d\d) [^\r\n]*)[\s\S]*?CSeq: \d+ INVITE/g)]
    .map((m) => m[1]!)
    .filter((l) => !/^SIP\/2\.0 40[17] /.test(l));
  return lines[lines.length - 1] ?? `no final response:\n${res.report}`;
}

const refusedCall = (target: string, port: number): Promise<SippResult> =>
  w.sippUac({ scenario: 'uac-call-refused.xml', ext: '201', target, port, traceMessages: true, timeoutMs: 15_000 });

test('a busy callee: the caller gets 486 Busy Here and the call is logged busy', async () => {
  await withTimeout(
    (async () => {
      const uas = await w.sippUas({ scenario: 'uas-busy.xml', ext: '202', port: 5080 });
      const res = await refusedCall('202', 5090);
      assert.ok(res.ok, res.report);
      assert.is(finalStatus(res), 'SIP/2.0 486 Busy Here');
      const callee = await uas.stop(2_000);
      assert.ok(callee.ok, callee.report);
      const ended = await w.callEnded((l) => l.status === 486);
      assert.is(ended.disposition, 'busy');
    })(),
    30_000,
    'busy',
  );
});

test('nobody answers within ringSeconds: 480, logged missed (no-answer), the phone stops ringing', async () => {
  await withTimeout(
    (async () => {
      const phone = await w.phone({ name: 'p204', ext: '204', freqHz: 1000, sipPort: 5100, answerMode: 'manual' });
      await phone.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
      const started = Date.now();
      const res = await refusedCall('204', 5091);
      const took = Date.now() - started;
      assert.ok(res.ok, res.report);
      assert.match(finalStatus(res), /^SIP\/2\.0 480 /);
      assert.ok(took >= 1_800 && took < 6_000, `it rang for the practice's 2 s (${took} ms)`);
      await phone.waitFor('CALL_INCOMING', { timeoutMs: 1_000 });
      await phone.waitFor('CALL_CLOSED', { timeoutMs: 3_000 });
      const ended = await w.callEnded((l) => l.cause === 'no-answer');
      assert.is(ended.disposition, 'missed');
    })(),
    30_000,
    'no answer',
  );
});

test('an unknown number: 404 with a reason', async () => {
  await withTimeout(
    (async () => {
      const res = await refusedCall('555', 5092);
      assert.ok(res.ok, res.report);
      assert.match(finalStatus(res), /^SIP\/2\.0 404 \S/);
      await w.gw.waitForLog((l) => l.msg === 'call to an unknown number' && l.dialled === '555', 2_000);
    })(),
    20_000,
    'unknown number',
  );
});

test('an extension with no phone registered: 480, logged missed (not-registered)', async () => {
  await withTimeout(
    (async () => {
      const res = await refusedCall('203', 5093);
      assert.ok(res.ok, res.report);
      assert.match(finalStatus(res), /^SIP\/2\.0 480 /);
      const ended = await w.callEnded((l) => l.cause === 'not-registered');
      assert.is(ended.disposition, 'missed');
    })(),
    20_000,
    'not registered',
  );
});

test.run();
