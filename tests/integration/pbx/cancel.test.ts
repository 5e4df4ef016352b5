/**
 * CANCEL through the B2BUA (RFC 3261 §9): a SIPp caller rings a desk phone
 * (baresip, answering by hand, so it rings) and hangs up before it answers.
 * The gateway must answer the CANCEL 200 and the INVITE 487, CANCEL its own
 * INVITE to the phone (which stops ringing), and log the call as abandoned:
 * the caller gave up while it rang (DOMAIN.md's call data).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withTimeout } from '../../support/proc.js';
import { createPbxWorld } from './world.js';

test('a caller that hangs up while the phone rings: 200 + 487, the phone stops ringing, call abandoned', async () => {
  const w = await createPbxWorld({ subnet: '10.91.2.0/24' });
  try {
    await withTimeout(
      (async () => {
        const bob = await w.phone({ name: 'bob', ext: '202', freqHz: 1500, sipPort: 5070, answerMode: 'manual' });
        await bob.waitFor('REGISTER_OK', { timeoutMs: 10_000 });

        // SIPp (as 201) calls 202, answers the 407, waits 2 s after the 180, then CANCELs.
        const res = await w.sippUac({ scenario: 'uac-cancel.xml', ext: '201', target: '202', port: 5090, extraArgs: ['-d', '2000'] });
        assert.ok(res.ok, res.report);
        assert.is(res.stats?.successful, 1, res.report);

        // The phone rang, then its leg was CANCELled.
        await bob.waitFor('CALL_INCOMING', { timeoutMs: 1_000 });
        const closed = await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        assert.not.ok(bob.events.some((e) => e.type === 'CALL_ESTABLISHED'), 'the phone never answered');
        const trace = bob.log();
        assert.match(trace, /CANCEL sip:/, 'the phone got a CANCEL');
        assert.match(trace, /SIP\/2\.0 487/, 'the phone ended its INVITE with 487');
        assert.ok(closed.param !== undefined, 'CALL_CLOSED carries a reason');

        const ended = await w.callEnded();
        assert.is(ended.disposition, 'abandoned', JSON.stringify(ended));
        assert.is(ended.cause, 'cancelled', JSON.stringify(ended));
        assert.is(w.gw.logs().filter((l) => l.msg === 'call answered').length, 0);
      })(),
      45_000,
      'cancel test',
    );
  } finally {
    await w.close();
  }
});

test.run();
