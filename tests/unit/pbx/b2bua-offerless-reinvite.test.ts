/**
 * A re-INVITE without SDP (RFC 3261 §14.1, RFC 6337 §5) through the B2BUA,
 * on real InviteSessions (real-sessions.ts): the gateway asks the other phone
 * for an offer with a re-INVITE without SDP, offers that (with its own
 * address facing the asker) in its 200, and relays the asker's answer from
 * its ACK into the other phone's ACK. Before this, the asker's answer was
 * applied nowhere: from the callee it was dropped, and from the caller the
 * gateway could not use it and hung the call up.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OFFERLESS_ANSWER_WAIT_MS } from '../../../firmware/src/pbx/b2bua-call.js';
import type { SipRequest } from '../../../firmware/src/sip/message/types.js';
import { answeredCall, bodyOf, dirOf, GW_TO_A, GW_TO_B, legSdp, phoneSdp, wait, type Phone, type RealCall } from './real-sessions.js';

const cseqOf = (r: SipRequest): number => Number(r.headers.get('CSeq')!.split(' ')[0]);
const ackFor = (p: Phone, cseq: number): SipRequest | undefined => p.acks().find((r) => cseqOf(r) === cseq);
const lastInvite = (p: Phone) => p.received('INVITE').at(-1)!;
const cAddr = (sdp: string): string | undefined => /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
const mPort = (sdp: string): number => Number(/^m=audio (\d+)/m.exec(sdp)?.[1]);
const sent = (w: RealCall, method: string): number => w.h.tx.sent(method).length;

test('the caller asks without an offer: the callee is asked, its offer reaches the caller, the caller’s hold reaches the callee in the ACK', async () => {
  const w = await answeredCall();
  const invitesToB = w.b.received('INVITE').length;
  const re = w.a.send('INVITE');
  await wait();
  assert.is(w.b.received('INVITE').length, invitesToB + 1, 'the callee got a re-INVITE');
  const reB = lastInvite(w.b);
  assert.is(bodyOf(reB.request), '', 'without an offer: the callee is asked for its own');
  assert.is(re.final, undefined, 'the caller waits for the callee’s offer');

  // The callee offers, from a new port.
  reB.respond(200, { headers: [['Contact', '<sip:202@198.51.100.30>']], body: phoneSdp({ who: 'b', version: 2, port: 5002 }) });
  await wait();
  assert.is(re.final?.status, 200);
  const offerToA = bodyOf(re.final);
  assert.is(cAddr(offerToA), GW_TO_A, 'the offer carries the gateway address facing the caller');
  assert.is(mPort(offerToA), w.leg('a').rtpPort, 'and the caller leg’s port');
  assert.is(dirOf(offerToA), 'sendrecv');
  assert.not.match(offerToA, /198\.51\.100\.30/, 'nothing of the callee’s address');
  assert.is(ackFor(w.b, cseqOf(reB.request)), undefined, 'the callee’s ACK waits for the caller’s answer');

  // The caller puts the call on hold in its answer.
  w.a.ack(w.a.cseq, phoneSdp({ who: 'a', version: 2, dir: 'sendonly', pts: '8' }));
  await wait();
  const ack = ackFor(w.b, cseqOf(reB.request));
  assert.ok(ack, 'the callee’s 2xx is ACKed');
  const answerToB = bodyOf(ack);
  assert.is(dirOf(answerToB), 'sendonly', 'the callee learns it is held');
  assert.is(cAddr(answerToB), GW_TO_B, 'the answer carries the gateway address facing the callee');
  assert.is(mPort(answerToB), w.leg('b').rtpPort);
  assert.match(answerToB, /^m=audio \d+ RTP\/AVP 8\b/m, 'the codec the caller chose, so media passes through');

  // Each leg's relay config is its own offer/answer pair.
  assert.is(legSdp(w.leg('a')).local, offerToA);
  assert.is(dirOf(legSdp(w.leg('a')).remote), 'sendonly');
  assert.is(mPort(legSdp(w.leg('b')).remote), 5002, 'the callee leg sends to the callee’s new port');
  assert.is(legSdp(w.leg('b')).local, answerToB);
  const s = w.call.sessions();
  assert.is(s.a.offerAnswerState, 'stable');
  assert.is(s.b!.offerAnswerState, 'stable');
  assert.is(sent(w, 'BYE'), 0, 'nobody is hung up');
  assert.is(w.call.state, 'answered');

  // And the resume, the same way.
  const resume = w.a.send('INVITE');
  await wait();
  const reB2 = lastInvite(w.b);
  reB2.respond(200, { headers: [['Contact', '<sip:202@198.51.100.30>']], body: phoneSdp({ who: 'b', version: 3, port: 5002 }) });
  await wait();
  assert.is(resume.final?.status, 200);
  w.a.ack(w.a.cseq, phoneSdp({ who: 'a', version: 3, pts: '8' }));
  await wait();
  assert.is(dirOf(bodyOf(ackFor(w.b, cseqOf(reB2.request)))), 'sendrecv', 'the callee learns the hold is over');
});

test('after a call set up without an offer (the answer in the first ACK), a re-INVITE without one still works', async () => {
  const w = await answeredCall({ lateOffer: true });
  assert.is(dirOf(legSdp(w.leg('a')).remote), 'sendrecv');
  assert.is(mPort(legSdp(w.leg('a')).remote), 4000, 'the caller leg took the answer from the first ACK');
  assert.is(cAddr(legSdp(w.leg('a')).local), GW_TO_A);
  const re = w.a.send('INVITE');
  await wait();
  const reB = lastInvite(w.b);
  reB.respond(200, { headers: [['Contact', '<sip:202@198.51.100.30>']], body: phoneSdp({ who: 'b', version: 2 }) });
  await wait();
  assert.is(re.final?.status, 200);
  w.a.ack(w.a.cseq, phoneSdp({ who: 'a', version: 2, dir: 'inactive', pts: '8' }));
  await wait();
  assert.is(dirOf(bodyOf(ackFor(w.b, cseqOf(reB.request)))), 'inactive');
  assert.is(sent(w, 'BYE'), 0);
});

test('the callee asks without an offer: the same, the other way round', async () => {
  const w = await answeredCall();
  const re = w.b.send('INVITE');
  await wait();
  const reA = lastInvite(w.a);
  assert.is(bodyOf(reA.request), '', 'the caller is asked for its offer');
  reA.respond(200, { headers: [['Contact', '<sip:201@198.51.100.20:5062>']], body: phoneSdp({ who: 'a', version: 2 }) });
  await wait();
  const offerToB = bodyOf(re.final);
  assert.is(re.final?.status, 200);
  assert.is(cAddr(offerToB), GW_TO_B);
  assert.is(mPort(offerToB), w.leg('b').rtpPort);
  w.b.ack(w.b.cseq, phoneSdp({ who: 'b', version: 2, dir: 'inactive', pts: '8' }));
  await wait();
  const answerToA = bodyOf(ackFor(w.a, cseqOf(reA.request)));
  assert.is(dirOf(answerToA), 'inactive', 'the caller learns the callee stopped the media');
  assert.is(cAddr(answerToA), GW_TO_A);
  assert.is(dirOf(legSdp(w.leg('b')).remote), 'inactive');
  assert.is(legSdp(w.leg('a')).local, answerToA);
  assert.is(sent(w, 'BYE'), 0);
});

test('a phone that held the call resumes without an offer: it is offered sendrecv, not the recvonly it was answered before', async () => {
  const w = await answeredCall();
  // The caller holds with an offer: relayed, the callee answers recvonly, the caller gets recvonly.
  const hold = w.a.send('INVITE', { body: phoneSdp({ who: 'a', version: 2, dir: 'sendonly' }) });
  await wait();
  lastInvite(w.b).respond(200, { headers: [['Contact', '<sip:202@198.51.100.30>']], body: phoneSdp({ who: 'b', version: 2, pts: '8', dir: 'recvonly' }) });
  await wait();
  assert.is(dirOf(bodyOf(hold.final)), 'recvonly');
  w.a.ack(w.a.cseq);
  await wait();

  const resume = w.a.send('INVITE');
  await wait();
  lastInvite(w.b).respond(200, { headers: [['Contact', '<sip:202@198.51.100.30>']], body: phoneSdp({ who: 'b', version: 3 }) });
  await wait();
  assert.is(dirOf(bodyOf(resume.final)), 'sendrecv', 'the caller can take the call back');
});

for (const status of [491, 488]) {
  test(`the callee refuses the re-INVITE with ${status}: the caller gets ${status}, the call is as it was, and a retry works`, async () => {
    const w = await answeredCall();
    const before = legSdp(w.leg('b'));
    const re = w.a.send('INVITE');
    await wait();
    lastInvite(w.b).respond(status);
    await wait();
    assert.is(re.final?.status, status);
    assert.equal(legSdp(w.leg('b')), before, 'the callee leg unchanged');
    assert.is(w.call.state, 'answered');
    assert.is(w.call.sessions().a.offerAnswerState, 'stable');

    const retry = w.a.send('INVITE');
    await wait();
    const reB = lastInvite(w.b);
    reB.respond(200, { headers: [['Contact', '<sip:202@198.51.100.30>']], body: phoneSdp({ who: 'b', version: 2 }) });
    await wait();
    assert.is(retry.final?.status, 200);
    w.a.ack(w.a.cseq, phoneSdp({ who: 'a', version: 2, pts: '8', dir: 'sendonly' }));
    await wait();
    assert.is(dirOf(bodyOf(ackFor(w.b, cseqOf(reB.request)))), 'sendonly');
  });
}

test('the callee’s 2xx carries no offer: the caller gets 488 and the call goes on as it was', async () => {
  const w = await answeredCall();
  const before = { a: legSdp(w.leg('a')), b: legSdp(w.leg('b')) };
  const re = w.a.send('INVITE');
  await wait();
  const reB = lastInvite(w.b);
  reB.respond(200, { headers: [['Contact', '<sip:202@198.51.100.30>']] });
  await wait();
  assert.is(re.final?.status, 488);
  assert.ok(ackFor(w.b, cseqOf(reB.request)), 'the callee’s 2xx is ACKed');
  assert.equal({ a: legSdp(w.leg('a')), b: legSdp(w.leg('b')) }, before);
  assert.is(sent(w, 'BYE'), 0);
  assert.is(w.call.state, 'answered');
});

test('the callee never answers the re-INVITE: the caller gets 488, and the callee’s leg, gone, ends the call', async () => {
  const w = await answeredCall();
  const re = w.a.send('INVITE');
  await wait();
  lastInvite(w.b).timeout();
  await wait();
  assert.is(re.final?.status, 488);
  // The callee's session ends its dead dialog with BYE (RFC 3261 §12.2.1.2); once that is over, so is the call.
  const byeToB = w.h.tx.sent('BYE').find((c) => c.destination.address === '198.51.100.30')!;
  byeToB.timeout();
  await wait();
  assert.is(w.call.state, 'ended');
  assert.ok(w.a.received('BYE').length === 1, 'the caller is hung up');
});

test('the caller’s ACK brings no answer: the call goes on, and the callee’s ACK keeps the session it had', async () => {
  const w = await answeredCall();
  const re = w.a.send('INVITE');
  await wait();
  const reB = lastInvite(w.b);
  reB.respond(200, { headers: [['Contact', '<sip:202@198.51.100.30>']], body: phoneSdp({ who: 'b', version: 2 }) });
  await wait();
  assert.is(re.final?.status, 200);
  w.a.ack(w.a.cseq);
  await wait();
  // A running call is not ended for it: the offer is withdrawn (sip/ua answerMissing) and both keep their session.
  assert.is(w.a.received('BYE').length, 0, 'the caller is not hung up');
  assert.is(w.call.state, 'answered');
  const ack = ackFor(w.b, cseqOf(reB.request));
  assert.ok(ack, 'the callee’s 2xx is ACKed at once, not after the 16 s wait');
  assert.match(bodyOf(ack), /^v=0/m, 'with an answer that keeps the session it had');
  assert.match(bodyOf(ack), /a=sendrecv/);
  assert.is(w.b.received('BYE').length, 0, 'the callee is not hung up');
});

test('the caller cancels its re-INVITE while the callee is asked: the callee’s ACK keeps the session it had, in time', async () => {
  const w = await answeredCall();
  const before = legSdp(w.leg('a'));
  const re = w.a.send('INVITE');
  await wait();
  w.h.tx.cancel(re);
  assert.is(re.final?.status, 487);
  const reB = lastInvite(w.b);
  reB.respond(200, { headers: [['Contact', '<sip:202@198.51.100.30>']], body: phoneSdp({ who: 'b', version: 2, port: 5004 }) });
  await wait();
  assert.is(ackFor(w.b, cseqOf(reB.request)), undefined);
  w.h.clock.advance(OFFERLESS_ANSWER_WAIT_MS - 1);
  await wait();
  assert.is(ackFor(w.b, cseqOf(reB.request)), undefined, 'not before the wait is over');
  w.h.clock.advance(1);
  await wait();
  const answer = bodyOf(ackFor(w.b, cseqOf(reB.request)));
  assert.ok(answer, 'then an ACK with an answer');
  assert.is(dirOf(answer), 'sendrecv', 'the caller’s session as it was');
  assert.is(cAddr(answer), GW_TO_B);
  assert.match(answer, /^m=audio \d+ RTP\/AVP 8\b/m, 'with the codec in use');
  assert.is(mPort(legSdp(w.leg('b')).remote), 5004, 'the callee leg follows the callee’s new port');
  assert.equal(legSdp(w.leg('a')), before, 'the caller leg unchanged');
  assert.is(w.call.state, 'answered');
  assert.is(sent(w, 'BYE'), 0);

  // The next exchange works as usual.
  const hold = w.a.send('INVITE', { body: phoneSdp({ who: 'a', version: 2, dir: 'sendonly' }) });
  await wait();
  lastInvite(w.b).respond(200, { headers: [['Contact', '<sip:202@198.51.100.30>']], body: phoneSdp({ who: 'b', version: 3, port: 5004, pts: '8', dir: 'recvonly' }) });
  await wait();
  assert.is(dirOf(bodyOf(hold.final)), 'recvonly');
});

test.run();
