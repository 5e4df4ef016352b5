/**
 * Hold and resume by re-INVITEs without SDP (RFC 3261 §14.1, RFC 6337 §5),
 * from either end, through the B2BUA: the phone that asks gets the other
 * phone's offer in the 200 (with the gateway's address), answers in its ACK,
 * and that answer must reach the other phone in the gateway's ACK, so that
 * phone learns it is held (and then that it is not):
 * - SIPp calls a desk phone (baresip) and asks without an offer, answering
 *   sendonly then sendrecv (uac-offerless-hold.xml);
 * - a desk phone calls SIPp, which asks without an offer and answers
 *   sendonly (uas-offerless-hold.xml).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sleep, withTimeout } from '../../support/proc.js';
import { createPbxWorld, type PbxWorld } from './world.js';

/** The SIP messages in baresip's `-s` trace (they start at a request or status line). */
function sipMessages(trace: string): string[] {
  return trace.split(/\n(?=(?:[A-Z]+ sip:\S+ SIP\/2\.0|SIP\/2\.0 \d{3})\b)/).filter((m) => /^(?:[A-Z]+ sip:|SIP\/2\.0 )/.test(m));
}

/** The messages SIPp received, from its -trace_msg log (blocks after a dashed time line). */
function sippReceived(log: string): string[] {
  return log
    .split(/^-{10,}.*$/m)
    .map((b) => b.trim())
    .filter((b) => /^\w+ message received/.test(b))
    .map((b) => b.replace(/^.*\n/, '').trim());
}

const hasSdp = (m: string): boolean => /\nm=audio /.test(m);
const direction = (m: string): string => /a=(sendonly|recvonly|inactive|sendrecv)/.exec(m)?.[1] ?? 'sendrecv';
const cseqMethod = (m: string, method: string): boolean => new RegExp(`\\nCSeq:\\s*\\d+ ${method}\\b`, 'i').test(m);
const esc = (s: string): string => s.replace(/\./g, '\\.');

let w: PbxWorld;

test.before.each(async () => {
  w = await createPbxWorld({ subnet: '10.91.22.0/24' });
});

test.after.each(async () => {
  await w.close();
});

test('the caller asks without an offer: the phone is asked, offers, and gets the caller’s hold and resume in the ACKs', async () => {
  await withTimeout(
    (async () => {
      const bob = await w.phone({ name: 'bob', ext: '202', freqHz: 1500, sipPort: 5070 });
      await bob.waitFor('REGISTER_OK', { timeoutMs: 10_000 });

      const res = await w.sippUac({ scenario: 'uac-offerless-hold.xml', ext: '201', target: '202', port: 5090, extraArgs: ['-d', '1500'], traceMessages: true });
      assert.ok(res.ok, res.report);
      assert.is(res.stats?.successful, 1, res.report);
      await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });

      const msgs = sipMessages(bob.log());
      const invites = msgs.filter((m) => m.startsWith('INVITE sip:'));
      assert.ok(invites.length >= 3, `the phone got the INVITE and two re-INVITEs (got ${invites.length})`);
      const reinvites = invites.slice(-2);
      for (const r of reinvites) assert.not.ok(hasSdp(r), `the gateway asked the phone without an offer too:\n${r}`);
      const offers = msgs.filter((m) => m.startsWith('SIP/2.0 200') && cseqMethod(m, 'INVITE') && hasSdp(m)).slice(-2);
      assert.is(offers.length, 2, 'the phone offered in its 200s');
      const acks = msgs.filter((m) => m.startsWith('ACK sip:') && hasSdp(m));
      assert.is(acks.length, 2, `the phone got two ACKs with an answer:\n${msgs.filter((m) => m.startsWith('ACK')).join('\n----\n')}`);
      assert.is(direction(acks[0]!), 'sendonly', 'the hold reached the phone: the gateway only sends to it');
      assert.is(direction(acks[1]!), 'sendrecv', 'and the resume');
      for (const a of acks) assert.match(a, new RegExp(`\\nc=IN IP4 ${esc(w.gwAddr)}\\s`), 'the answers carry the gateway address');

      // What SIPp was offered: the phone's offer made the gateway's (its address, a port of its pool).
      const toSipp = sippReceived(res.messages).filter((m) => m.startsWith('SIP/2.0 200') && cseqMethod(m, 'INVITE') && hasSdp(m));
      assert.ok(toSipp.length >= 3, `SIPp got three 200s with SDP:\n${res.messages.slice(-4000)}`);
      for (const offer of toSipp.slice(-2)) {
        assert.match(offer, new RegExp(`\\nc=IN IP4 ${esc(w.gwAddr)}\\s`));
        const port = Number(/\nm=audio (\d+) /.exec(offer)?.[1]);
        assert.ok(port >= 20000 && port <= 20999, `a port of the gateway's pool (${port})`);
        assert.is(direction(offer), 'sendrecv', 'the phone’s offer, as it made it');
      }

      const ended = await w.callEnded();
      assert.is(ended.disposition, 'answered');
      assert.is(ended.cause, 'bye-caller', 'the call was never hung up by the gateway');
    })(),
    45_000,
    'offerless re-INVITE from the caller',
  );
});

test('the callee asks without an offer: the phone that called is asked, offers, and learns from the ACK it is held', async () => {
  await withTimeout(
    (async () => {
      const alice = await w.phone({ name: 'alice', ext: '201', freqHz: 1000, sipPort: 5060 });
      await alice.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
      const uas = await w.sippUas({ scenario: 'uas-offerless-hold.xml', ext: '202', port: 5080, traceMessages: true, extraArgs: ['-d', '1000'] });

      await alice.dial(`sip:202@${w.gwAddr}`);
      await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
      const deadline = Date.now() + 8_000;
      const acksWithSdp = (): string[] => sipMessages(alice.log()).filter((m) => m.startsWith('ACK sip:') && hasSdp(m));
      while (acksWithSdp().length === 0 && Date.now() < deadline) await sleep(200);
      await sleep(500);
      await alice.hangup();
      await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
      const res = await withTimeout(uas.done, 10_000, 'the SIPp callee to finish');
      assert.ok(res.ok, res.report);

      const msgs = sipMessages(alice.log());
      // The trace holds what the phone sent too: its own INVITEs go to 202, the gateway's to 201.
      const invites = msgs.filter((m) => m.startsWith('INVITE sip:201'));
      assert.is(invites.length, 1, `the phone got one re-INVITE; its trace:\n${msgs.map((m) => m.split('\n')[0]).join('\n')}`);
      assert.not.ok(hasSdp(invites[0]!), `without an offer:\n${invites[0]}`);
      const offer = msgs.filter((m) => m.startsWith('SIP/2.0 200') && cseqMethod(m, 'INVITE') && hasSdp(m)).at(-1);
      assert.ok(offer, 'the phone offered in its 200');
      const acks = acksWithSdp();
      assert.is(acks.length, 1, 'one ACK with an answer');
      assert.is(direction(acks[0]!), 'sendonly', 'the phone learns it is held');
      assert.match(acks[0]!, new RegExp(`\\nc=IN IP4 ${esc(w.gwAddr)}\\s`));

      const toSipp = sippReceived(res.messages).filter((m) => m.startsWith('SIP/2.0 200') && cseqMethod(m, 'INVITE'));
      assert.is(toSipp.length, 1, 'SIPp got one 200 to its re-INVITE');
      assert.match(toSipp[0]!, new RegExp(`\\nc=IN IP4 ${esc(w.gwAddr)}\\s`), 'the offer carries the gateway address');

      const ended = await w.callEnded();
      assert.is(ended.disposition, 'answered');
      assert.is(ended.cause, 'bye-caller');
    })(),
    45_000,
    'offerless re-INVITE from the callee',
  );
});

test.run();
