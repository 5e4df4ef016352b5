import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { InviteSession } from '../../../../firmware/src/sip/ua/invite-session.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import { request, sdp, PEER, type FakeServerTx } from './fake-transactions.js';
import { flush, harness, record, type Harness } from './harness.js';

const PHONE_OFFER = 'v=0\r\no=- phone-offer\r\n';
const FROM = '"Dr Smith" <sip:201@surgery.example>;tag=ph1';
const TO = '<sip:202@surgery.example>';

function incoming(h: Harness, o: { headers?: [string, string][]; body?: string } = {}): { s: InviteSession; tx: FakeServerTx; inv: SipRequest } {
  let got: InviteSession | undefined;
  h.ua.delegate = { onInvite: (s) => (got = s) };
  const inv = request('INVITE', {
    uri: 'sip:202@192.0.2.10',
    from: FROM,
    to: TO,
    callId: 'call-1',
    cseq: 10,
    headers: [['Contact', '<sip:201@198.51.100.20:5062>'], ['Allow', 'INVITE, ACK, BYE, CANCEL, UPDATE'], ['Record-Route', '<sip:rr.example;lr>'], ...(o.headers ?? [])],
    body: o.body ?? PHONE_OFFER,
  });
  const tx = h.tx.receive(inv);
  return { s: got!, tx, inv };
}

function ack(h: Harness, s: InviteSession, o: { cseq?: number; body?: string } = {}): void {
  h.tx.receive(request('ACK', { from: FROM, to: `${TO};tag=${s.localTag}`, callId: 'call-1', cseq: o.cseq ?? 10, ...(o.body ? { body: o.body } : {}) }));
}

function inDialog(s: InviteSession, method: string, cseq: number, o: { headers?: [string, string][]; body?: string } = {}): SipRequest {
  return request(method, { from: FROM, to: `${TO};tag=${s.localTag}`, callId: 'call-1', cseq, ...o });
}

test('incoming call: delegate sees it; 180 and 200 carry our tag, Contact and Record-Route; 2xx retransmitted until ACK', async () => {
  const h = harness();
  const { s, tx } = incoming(h);
  const log = record(s);
  assert.is(s.state, 'incoming');
  assert.is(s.destination, tx.inbound.source);
  s.progress();
  const r180 = tx.last!;
  assert.is(r180.status, 180);
  assert.is(r180.headers.get('To'), `${TO};tag=${s.localTag}`);
  assert.is(r180.headers.get('Contact'), '<sip:192.0.2.10:5060>');
  assert.is(r180.headers.get('Record-Route'), '<sip:rr.example;lr>');
  assert.is(r180.headers.get('RSeq'), undefined);
  assert.is(s.state, 'early');
  await s.accept({ body: sdp('answer') });
  const ok = tx.final!;
  assert.is(ok.status, 200);
  assert.is(ok.headers.get('To'), `${TO};tag=${s.localTag}`);
  assert.is(ok.body.toString(), sdp('answer').body.toString());
  assert.is(ok.headers.get('Session-Expires'), '1800;refresher=uas', 'phone did not ask for timers: we refresh');
  assert.is(s.state, 'connecting');
  // §13.3.1.4: T1, 2T1, 4T1, ... capped at T2.
  h.clock.advance(500);
  assert.is(h.tx.statelessResponses.length, 1);
  h.clock.advance(1000);
  assert.is(h.tx.statelessResponses.length, 2);
  h.clock.advance(2000);
  assert.is(h.tx.statelessResponses.length, 3);
  h.clock.advance(4000);
  assert.is(h.tx.statelessResponses.length, 4);
  h.clock.advance(4000);
  assert.is(h.tx.statelessResponses.length, 5, 'capped at T2');
  assert.is(h.tx.statelessResponses[0]!.response, ok);
  assert.equal(h.tx.statelessResponses[0]!.inbound.source, PEER);
  ack(h, s);
  assert.is(s.state, 'confirmed');
  h.clock.advance(60_000);
  assert.is(h.tx.statelessResponses.length, 5, 'stops on ACK');
  assert.equal(log, ['state:early', 'state:connecting', 'refreshed', 'state:confirmed', 'confirmed']);
  assert.is(s.remoteBody!.body.toString(), PHONE_OFFER);
});

test('no ACK for 64*T1: the session is ended with BYE (§13.3.1.4)', async () => {
  const h = harness();
  const { s } = incoming(h);
  await s.accept({ body: sdp('answer') });
  h.clock.advance(31_999);
  assert.is(h.tx.sent('BYE').length, 0);
  assert.is(h.tx.statelessResponses.length, 10);
  h.clock.advance(1);
  const bye = h.tx.lastSent('BYE');
  assert.is(bye.request.headers.get('To'), FROM);
  assert.is(bye.request.headers.get('From'), `${TO};tag=${s.localTag}`);
  assert.is(bye.request.uri, 'sip:201@198.51.100.20:5062');
  assert.is(bye.request.headers.get('Route'), '<sip:rr.example;lr>');
  assert.equal(bye.destination, PEER);
  bye.respond(200);
  assert.is(s.endInfo!.cause, 'timeout');
});

test('bye() before the ACK waits for it (§15)', async () => {
  const h = harness();
  const { s } = incoming(h);
  await s.accept({ body: sdp('answer') });
  s.bye();
  assert.is(h.tx.sent('BYE').length, 0);
  ack(h, s);
  assert.is(h.tx.sent('BYE').length, 1);
  assert.is(s.state, 'terminating');
});

test('reject and CANCEL', () => {
  const h = harness();
  const a = incoming(h);
  a.s.reject({ status: 486 });
  assert.is(a.tx.final!.status, 486);
  assert.is(a.tx.final!.headers.get('To'), `${TO};tag=${a.s.localTag}`);
  assert.is(a.s.endInfo!.cause, 'rejected');
  assert.throws(() => a.s.progress());

  const b = incoming(h);
  const log = record(b.s);
  b.s.progress();
  h.tx.cancel(b.tx);
  assert.is(b.tx.final!.status, 487);
  assert.is(b.s.endInfo!.cause, 'cancelled');
  assert.equal(log, ['state:early', 'state:terminated', 'ended:cancelled:487']);
  assert.equal(h.ua.counts(), { sessions: 0, dialogs: 0, serverInvites: 0 });
});

test('no delegate: 480', () => {
  const h = harness();
  const tx = h.tx.receive(request('INVITE', { from: FROM, to: TO, callId: 'x', cseq: 1, body: PHONE_OFFER, headers: [['Contact', '<sip:a@b>']] }));
  assert.is(tx.final!.status, 480);
});

test('Require with an unknown option tag: 420 with Unsupported; delegate not called', () => {
  const h = harness();
  let called = false;
  h.ua.delegate = { onInvite: () => (called = true) };
  const tx = h.tx.receive(request('INVITE', { from: FROM, to: TO, callId: 'x', cseq: 1, headers: [['Require', 'foo, 100rel'], ['Contact', '<sip:a@b>']] }));
  assert.is(tx.final!.status, 420);
  assert.is(tx.final!.headers.get('Unsupported'), 'foo');
  assert.not.ok(called);
  // With PRACK off, 100rel is unsupported too.
  const off = harness({ uasPrack: 'off' });
  const tx2 = off.tx.receive(request('INVITE', { from: FROM, to: TO, callId: 'y', cseq: 1, headers: [['Require', '100rel'], ['Contact', '<sip:a@b>']] }));
  assert.is(tx2.final!.headers.get('Unsupported'), '100rel');
});

test('Session-Expires below our Min-SE: 422 with Min-SE (RFC 4028 §8.1)', () => {
  const h = harness({ sessionTimer: { enabled: true, interval: 1800, minSE: 300 } });
  const tx = h.tx.receive(request('INVITE', { from: FROM, to: TO, callId: 'x', cseq: 1, headers: [['Session-Expires', '120'], ['Supported', 'timer'], ['Contact', '<sip:a@b>']] }));
  assert.is(tx.final!.status, 422);
  assert.is(tx.final!.headers.get('Min-SE'), '300');
});

test('session timer negotiation in the 2xx: UAC supports timer → refresher=uac with Require: timer', async () => {
  const h = harness();
  const { s, tx } = incoming(h, { headers: [['Supported', 'timer'], ['Session-Expires', '1200'], ['Min-SE', '600']] });
  await s.accept({ body: sdp('a') });
  assert.is(tx.final!.headers.get('Session-Expires'), '1200;refresher=uac');
  assert.is(tx.final!.headers.get('Require'), 'timer');
  assert.equal(s.sessionTimer, { interval: 1200, localRefresher: false });
});

test('offerless INVITE: our offer in the 200, the answer in the ACK', async () => {
  const h = harness();
  const { s, tx } = incoming(h, { body: '' });
  const log = record(s);
  s.mediaHandler = {
    createOffer: (ctx) => {
      assert.is(ctx.carrier, '2xx');
      return Promise.resolve(sdp('our-offer'));
    },
    answerOffer: () => Promise.reject(new Error('unused')),
  };
  await s.accept();
  assert.is(tx.final!.body.toString(), sdp('our-offer').body.toString());
  assert.is(s.offerAnswerState, 'local-offer');
  ack(h, s, { body: 'v=0\r\no=- phone-answer\r\n' });
  assert.is(s.offerAnswerState, 'stable');
  assert.is(s.remoteBody!.body.toString(), 'v=0\r\no=- phone-answer\r\n');
  assert.ok(log.includes('answer:2xx'));
});

test('offerless INVITE and an ACK without answer: BYE (failed)', async () => {
  const h = harness();
  const { s } = incoming(h, { body: '' });
  await s.accept({ body: sdp('our-offer') });
  ack(h, s);
  h.tx.lastSent('BYE').respond(200);
  assert.is(s.endInfo!.cause, 'failed');
});

test('accept() without a body asks the media handler for the answer; a refusal becomes 488', async () => {
  const h = harness();
  const a = incoming(h);
  a.s.mediaHandler = { createOffer: () => Promise.reject(new Error('x')), answerOffer: () => Promise.resolve(sdp('auto')) };
  await a.s.accept();
  assert.is(a.tx.final!.body.toString(), sdp('auto').body.toString());
  const b = incoming(h);
  b.s.mediaHandler = { createOffer: () => Promise.reject(new Error('x')), answerOffer: () => Promise.reject(new Error('no codec')) };
  await b.s.accept().then(
    () => assert.unreachable(),
    () => undefined,
  );
  assert.is(b.tx.final!.status, 488);
  assert.is(b.s.endInfo!.cause, 'rejected');
});

test('PRACK (Require: 100rel): reliable 183 retransmitted with T1 doubling until PRACK; 2xx held until then', async () => {
  const h = harness();
  h.randoms.push(0); // first RSeq = 1
  const { s, tx } = incoming(h, { headers: [['Require', '100rel']] });
  s.progress({ status: 183, body: sdp('early-answer') });
  const r183 = tx.last!;
  assert.is(r183.headers.get('Require'), '100rel');
  assert.is(r183.headers.get('RSeq'), '1');
  assert.is(s.offerAnswerState, 'stable', 'answer in a reliable 1xx completes offer/answer');
  h.clock.advance(500);
  h.clock.advance(1000);
  h.clock.advance(2000);
  assert.is(tx.responses.length, 4, 'sent + 3 retransmissions');
  // A second reliable 1xx waits for the first PRACK (RFC 3262 §3).
  s.progress({ status: 180 });
  assert.is(tx.responses.length, 4);
  const accepted = s.accept();
  await flush();
  assert.is(tx.final, undefined, '2xx held');
  // A PRACK for something else: 481.
  const bad = h.tx.receive(inDialog(s, 'PRACK', 11, { headers: [['RAck', '2 10 INVITE']] }));
  assert.is(bad.final!.status, 481);
  const good = h.tx.receive(inDialog(s, 'PRACK', 12, { headers: [['RAck', '1 10 INVITE']] }));
  assert.is(good.final!.status, 200);
  // Now the queued 180 goes out with RSeq 2, and the 2xx still waits for its PRACK.
  assert.is(tx.last!.status, 180);
  assert.is(tx.last!.headers.get('RSeq'), '2');
  h.clock.advance(4000);
  const before = tx.responses.length;
  h.tx.receive(inDialog(s, 'PRACK', 13, { headers: [['RAck', '2 10 INVITE']] }));
  await accepted;
  assert.is(tx.final!.status, 200);
  assert.is(tx.responses.length, before + 1);
  assert.is(tx.final!.body.length, 0, 'offer/answer already done in the 183');
  h.clock.advance(100_000);
  assert.is(tx.responses.filter((r) => r.status === 183).length, 4, 'no 183 after its PRACK');
});

test('PRACK never comes: 5 retransmissions... then after 64*T1 the INVITE is rejected 504', () => {
  const h = harness();
  const { s, tx } = incoming(h, { headers: [['Require', '100rel']] });
  s.progress({ status: 180 });
  // Retransmissions at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; give up at 32 s.
  h.clock.advance(31_999);
  assert.is(tx.responses.length, 7);
  h.clock.advance(1);
  assert.is(tx.final!.status, 504);
  assert.is(s.endInfo!.cause, 'timeout');
});

test('Supported: 100rel is used only when configured to', () => {
  const a = harness();
  const x = incoming(a, { headers: [['Supported', '100rel']] });
  x.s.progress();
  assert.is(x.tx.last!.headers.get('RSeq'), undefined);
  const b = harness({ uasPrack: 'supported' });
  const y = incoming(b, { headers: [['Supported', '100rel']] });
  y.s.progress();
  assert.ok(y.tx.last!.headers.get('RSeq'));
});

test('offerless INVITE with PRACK: offer in the reliable 183, answer in the PRACK', async () => {
  const h = harness();
  const { s, tx } = incoming(h, { body: '', headers: [['Require', '100rel']] });
  s.progress({ status: 183, body: sdp('our-offer') });
  assert.is(s.offerAnswerState, 'local-offer');
  const rseq = tx.last!.headers.get('RSeq');
  const p = h.tx.receive(inDialog(s, 'PRACK', 11, { headers: [['RAck', `${rseq} 10 INVITE`]], body: 'v=0\r\no=- prack-answer\r\n' }));
  assert.is(p.final!.status, 200);
  assert.is(s.offerAnswerState, 'stable');
  await s.accept();
  assert.is(tx.final!.status, 200);
  assert.is(tx.final!.body.length, 0);
});

test('BYE on an early dialog: 200 to the BYE and 487 to the INVITE', () => {
  const h = harness();
  const { s, tx } = incoming(h);
  s.progress();
  const bye = h.tx.receive(inDialog(s, 'BYE', 11));
  assert.is(bye.final!.status, 200);
  assert.is(tx.final!.status, 487);
  assert.is(s.endInfo!.cause, 'bye-remote');
});

test('unreliable 183 with early media: the 2xx repeats that answer when accept() is given none', async () => {
  const h = harness();
  const { s, tx } = incoming(h);
  s.progress({ status: 183, body: sdp('early') });
  assert.is(tx.last!.body.toString(), sdp('early').body.toString());
  assert.is(s.offerAnswerState, 'remote-offer');
  await s.accept();
  assert.is(tx.final!.body.toString(), sdp('early').body.toString());
  assert.is(s.offerAnswerState, 'stable');
});

test('a response that cannot be sent ends the call (transport-error)', () => {
  const h = harness();
  const { s, tx } = incoming(h);
  s.progress();
  h.ua.onTransportError(tx, new Error('connection reset'));
  assert.is(s.endInfo!.cause, 'transport-error');
  assert.equal(h.ua.counts(), { sessions: 0, dialogs: 0, serverInvites: 0 });
});

test.run();
