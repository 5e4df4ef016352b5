/**
 * Hold and resume through the B2BUA (RFC 3264 §8.4, §6.1 direction mapping),
 * from either end of the call:
 * - SIPp calls a desk phone and re-INVITEs sendonly then sendrecv: the
 *   gateway relays each offer to the phone, the phone answers recvonly then
 *   sendrecv, and the gateway relays those answers back (uac-hold-resume.xml
 *   checks them);
 * - a desk phone holds a SIPp callee: SIPp must receive sendonly, then
 *   sendrecv, and the phone must get recvonly back.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sleep, withTimeout } from '../../support/proc.js';
import { createPbxWorld, type PbxWorld } from './world.js';

/** The SIP messages in baresip's `-s` trace (they start at a request or status line). */
function sipMessages(trace: string): string[] {
  return trace.split(/\n(?=(?:[A-Z]+ sip:\S+ SIP\/2\.0|SIP\/2\.0 \d{3})\b)/).filter((m) => /^(?:[A-Z]+ sip:|SIP\/2\.0 )/.test(m));
}

/** The direction attribute of an SDP (RFC 3264 §5.1: none means sendrecv). */
function direction(msg: string): string {
  return /a=(sendonly|recvonly|inactive|sendrecv)/.exec(msg)?.[1] ?? 'sendrecv';
}

/** The messages SIPp received, from its -trace_msg log (blocks after a dashed time line). */
function sippReceived(log: string): string[] {
  return log
    .split(/^-{10,}.*$/m)
    .map((b) => b.trim())
    .filter((b) => /^\w+ message received/.test(b))
    .map((b) => b.replace(/^.*\n/, '').trim());
}

/** Messages whose text contains an SDP body, in order. */
const withSdp = (msgs: string[]): string[] => msgs.filter((m) => /\nm=audio /.test(m));

let w: PbxWorld;

test.before.each(async () => {
  w = await createPbxWorld({ subnet: '10.91.3.0/24' });
});

test.after.each(async () => {
  await w.close();
});

test('the caller holds and resumes: sendonly relayed to the phone, its recvonly relayed back', async () => {
  await withTimeout(
    (async () => {
      const bob = await w.phone({ name: 'bob', ext: '202', freqHz: 1500, sipPort: 5070 });
      await bob.waitFor('REGISTER_OK', { timeoutMs: 10_000 });

      const res = await w.sippUac({ scenario: 'uac-hold-resume.xml', ext: '201', target: '202', port: 5090, extraArgs: ['-d', '1500'] });
      assert.ok(res.ok, res.report);
      assert.is(res.stats?.successful, 1, res.report);
      await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });

      // What the phone was sent and what it answered: the initial INVITE, then two re-INVITEs.
      const msgs = sipMessages(bob.log());
      const invitesToBob = withSdp(msgs.filter((m) => m.startsWith('INVITE sip:')));
      const answersFromBob = withSdp(msgs.filter((m) => m.startsWith('SIP/2.0 200') && /CSeq: \d+ INVITE/.test(m)));
      assert.ok(invitesToBob.length >= 3, `the phone got the INVITE and two re-INVITEs (got ${invitesToBob.length})`);
      const [, holdOffer, resumeOffer] = invitesToBob.slice(-3);
      assert.is(direction(holdOffer!), 'sendonly', 'the hold offer reached the phone as sendonly');
      assert.is(direction(resumeOffer!), 'sendrecv', 'the resume offer reached the phone as sendrecv');
      const [, holdAnswer, resumeAnswer] = answersFromBob.slice(-3);
      assert.is(direction(holdAnswer!), 'recvonly', 'the phone answered the hold recvonly');
      assert.is(direction(resumeAnswer!), 'sendrecv', 'the phone answered the resume sendrecv');
      // The relayed offers are the gateway's, not SIPp's: its address, its o= line.
      assert.match(holdOffer!, new RegExp(`c=IN IP4 ${w.gwAddr.replace(/\./g, '\\.')}`));
      assert.not.match(holdOffer!, /o=201 /);

      const ended = await w.callEnded();
      assert.is(ended.disposition, 'answered');
      assert.is(ended.cause, 'bye-caller');
    })(),
    45_000,
    'hold from the caller',
  );
});

test('the phone holds a SIPp callee: SIPp receives sendonly then sendrecv, the phone gets recvonly', async () => {
  await withTimeout(
    (async () => {
      const alice = await w.phone({ name: 'alice', ext: '201', freqHz: 1000, sipPort: 5060 });
      await alice.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
      const uas = await w.sippUas({ scenario: 'uas-answer.xml', ext: '202', port: 5080, traceMessages: true });

      await alice.dial(`sip:202@${w.gwAddr}`);
      await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
      await sleep(1_000);
      await alice.hold();
      await sleep(1_500);
      await alice.resume();
      await sleep(1_500);
      await alice.hangup();
      await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });

      const res = await withTimeout(uas.done, 10_000, 'the SIPp callee to finish');
      assert.ok(res.ok, res.report);
      // SIPp's -trace_msg log: every INVITE it received, with the SDP the gateway sent.
      const invites = sippReceived(res.messages).filter((m) => m.startsWith('INVITE sip:'));
      assert.is(invites.length, 3, `SIPp got the INVITE and two re-INVITEs:\n${res.messages.slice(-6000)}`);
      assert.is(direction(invites[1]!), 'sendonly', 'the hold reached SIPp as sendonly');
      assert.is(direction(invites[2]!), 'sendrecv', 'the resume reached SIPp as sendrecv');
      for (const inv of invites) assert.match(inv, new RegExp(`c=IN IP4 ${w.gwAddr.replace(/\./g, '\\.')}`), 'offers carry the gateway address');

      // And the phone got SIPp's recvonly back, translated, then sendrecv.
      const answers = withSdp(sipMessages(alice.log()).filter((m) => m.startsWith('SIP/2.0 200') && /CSeq: \d+ INVITE/.test(m)));
      const [, holdAnswer, resumeAnswer] = answers.slice(-3);
      assert.is(direction(holdAnswer!), 'recvonly', 'the phone got recvonly for its hold');
      assert.is(direction(resumeAnswer!), 'sendrecv', 'the phone got sendrecv for its resume');

      const ended = await w.callEnded();
      assert.is(ended.disposition, 'answered');
    })(),
    45_000,
    'hold from the phone',
  );
});

test.run();
