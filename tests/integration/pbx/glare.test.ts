/**
 * 491 Request Pending through the B2BUA (RFC 3261 §14.1/§14.2). The callee
 * (SIPp uas-glare.xml) refuses the first re-INVITE the gateway relays to it
 * with 491, as a phone does when its own re-INVITE crosses ours. The gateway
 * must hand the 491 back to the caller, whose offer it was, rather than sit
 * on the caller's re-INVITE and retry on its behalf: the caller owns the
 * retry and its §14.1 timing (SIPp uac-glare.xml waits 2.1–4 s, it placed
 * the call). The retry must then go through to the callee and succeed, and
 * the call must stay up and end normally.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withTimeout } from '../../support/proc.js';
import { createPbxWorld } from './world.js';

test('a 491 from the callee reaches the caller, whose retry after the RFC 3261 14.1 wait succeeds', async () => {
  const w = await createPbxWorld({ subnet: '10.91.4.0/24' });
  try {
    await withTimeout(
      (async () => {
        const uas = await w.sippUas({ scenario: 'uas-glare.xml', ext: '202', port: 5080, traceMessages: true });
        const res = await w.sippUac({ scenario: 'uac-glare.xml', ext: '201', target: '202', port: 5090, extraArgs: ['-d', '1000'], traceMessages: true, timeoutMs: 12_000 });
        const callee = await uas.stop(2_000);
        if (process.env.PGW_TEST_DEBUG) console.log(res.messages, '\n=== CALLEE ===\n', callee.messages, w.gw.proc.output.toString());
        assert.ok(res.ok, `caller:\n${res.report}\ncallee:\n${callee.report}`);
        assert.ok(callee.ok, callee.report);

        // The caller got the 491 (rtd 2), and its retry got a 200 (rtd 3).
        assert.match(res.messages, /SIP\/2\.0 491 /);
        const to491 = res.stats?.responseTimeMs['2'] ?? NaN;
        assert.ok(to491 < 1_000, `the 491 came back at once, not after a retry by the gateway (${to491} ms)`);
        // The callee saw the retry 2.1–4 s after its 491: the caller's §14.1 wait plus one relay hop.
        const gap = callee.stats?.responseTimeMs['1'] ?? NaN;
        assert.ok(gap >= 2_000 && gap <= 4_600, `491 → retried re-INVITE at the callee: ${gap} ms`);
        // Exactly two re-INVITEs reached the callee: the one it refused and the retry.
        const invitesAtCallee = callee.messages.match(/message received[^\n]*\n\s*INVITE sip:/g) ?? [];
        assert.is(invitesAtCallee.length, 3, 'the INVITE, the refused re-INVITE and the retry');

        const ended = await w.callEnded();
        assert.is(ended.disposition, 'answered');
        assert.is(ended.cause, 'bye-caller');
      })(),
      45_000,
      'glare test',
    );
  } finally {
    await w.close();
  }
});

test.run();
