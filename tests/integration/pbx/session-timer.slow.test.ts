/**
 * Session timers through the B2BUA (RFC 4028). The callee (SIPp
 * uas-session-timer.xml) answers with Session-Expires: 90;refresher=uac, the
 * smallest interval allowed, which makes the gateway (the UAC of that leg)
 * the refresher: it must refresh (re-INVITE with SDP, or UPDATE) at about
 * half the interval (§10: "a refresh SHOULD be sent ... at half the
 * session interval"), well before 90 s, so the session neither expires
 * nor is torn down; SIPp then hangs up and the gateway ends the caller's leg.
 *
 * Slow by nature (~50 s: RFC 4028 does not allow a smaller interval), hence
 * the `.slow.` in the name; it is the only slow test in this folder.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withTimeout } from '../../support/proc.js';
import { createPbxWorld } from './world.js';

test('the gateway refreshes a 90 s session at about 45 s and the call stays up', async () => {
  const w = await createPbxWorld({ subnet: '10.91.7.0/24' });
  try {
    await withTimeout(
      (async () => {
        const alice = await w.phone({ name: 'alice', ext: '201', freqHz: 1000, sipPort: 5060 });
        await alice.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
        // SIPp echoes the phone's RTP, so media flows and the dead-media guard (30 s) stays quiet.
        const uas = await w.sippUas({ scenario: 'uas-session-timer.xml', ext: '202', port: 5080, timeoutMs: 110_000, traceMessages: true, extraArgs: ['-rtp_echo'] });

        await alice.dial(`sip:202@${w.gwAddr}`);
        await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        const answeredAt = Date.now();
        // The call is up until SIPp, having had its refresh, sends BYE.
        await alice.waitFor('CALL_CLOSED', { timeoutMs: 95_000 });
        const lasted = Date.now() - answeredAt;
        const res = await withTimeout(uas.done, 5_000, 'the SIPp callee to finish');
        assert.ok(res.ok, res.report);

        const refreshMs = res.stats?.responseTimeMs['1'] ?? NaN;
        assert.ok(refreshMs >= 35_000 && refreshMs <= 60_000, `refreshed ${refreshMs} ms after the answer (about half of 90 s)`);
        assert.ok(lasted >= 35_000, `the call stayed up until the callee hung up (${lasted} ms)`);
        // Which refresh it sent, and that it said who refreshes (RFC 4028 §7.4).
        const refresh = /message received[^\n]*\n\s*((?:INVITE|UPDATE) sip:[\s\S]*?)(?=\n-{10,}|$)/g;
        const requests = [...res.messages.matchAll(refresh)].map((m) => m[1]!);
        assert.is(requests.length, 2, 'the INVITE and one refresh');
        assert.match(requests[1]!, /^Session-Expires:\s*90\b/im, 'the refresh keeps the 90 s interval');
        if (requests[1]!.startsWith('INVITE')) assert.match(requests[1]!, /\nm=audio /, 'a re-INVITE refresh carries an offer');

        const ended = await w.callEnded();
        assert.is(ended.disposition, 'answered');
        assert.is(ended.cause, 'bye-callee');
        assert.not.ok(w.gw.logs().some((l) => /session (timer )?expired/i.test(String(l.msg))), 'no session expiry');
      })(),
      120_000,
      'session timer',
    );
  } finally {
    await w.close();
  }
});

test.run();
