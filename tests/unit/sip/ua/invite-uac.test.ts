import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAuthHeader } from '../../../../firmware/src/sip/auth/digest-params.js';
import { createDigestServer } from '../../../../firmware/src/sip/auth/digest-server.js';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { PEER, sdp } from './fake-transactions.js';
import { call, flush, harness, record } from './harness.js';

const OFFER = sdp('offer');
const ANSWER = 'v=0\r\no=- answer\r\n';

test('INVITE: headers built for the peer, Contact and Via from localFor', () => {
  const h = harness({ userAgent: 'pgw/test' });
  const s = call(h, { body: OFFER, headers: [['P-Asserted-Identity', '<sip:201@surgery.example>']] });
  const inv = h.tx.lastSent('INVITE');
  const r = inv.request;
  assert.equal(inv.destination, PEER);
  assert.is(r.uri, 'sip:202@198.51.100.20:5062');
  assert.match(r.headers.get('Via')!, /^SIP\/2\.0\/UDP 192\.0\.2\.10:5060;branch=z9hG4bK[^;]+;rport$/);
  assert.is(r.headers.get('Contact'), '<sip:192.0.2.10:5060>');
  assert.is(r.headers.get('From'), `"Reception" <sip:201@surgery.example>;tag=${s.localTag}`);
  assert.is(r.headers.get('To'), '<sip:202@surgery.example>');
  assert.is(r.headers.get('Call-ID'), s.callId);
  assert.match(r.headers.get('CSeq')!, /^\d+ INVITE$/);
  assert.is(r.headers.get('Supported'), '100rel, timer');
  assert.is(r.headers.get('Session-Expires'), '1800');
  assert.is(r.headers.get('Min-SE'), '90');
  assert.is(r.headers.get('P-Asserted-Identity'), '<sip:201@surgery.example>');
  assert.is(r.headers.get('User-Agent'), 'pgw/test');
  assert.is(r.headers.get('Content-Type'), 'application/sdp');
  assert.is(r.body.toString(), OFFER.body.toString());
  assert.ok(r.headers.get('Allow')!.includes('UPDATE'));
  assert.is(s.state, 'calling');
  assert.is(s.offerAnswerState, 'local-offer');
});

test('basic call: 180, 200 with answer, ACK with the INVITE CSeq to the remote target via the route set', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  const log = record(s);
  const inv = h.tx.lastSent('INVITE');
  inv.respond(100);
  inv.respond(180, { toTag: 'peer1', headers: [['Contact', '<sip:202@198.51.100.20:5062>']] });
  assert.is(s.state, 'early');
  assert.is(s.dialog!.state, 'early');
  inv.respond(200, {
    toTag: 'peer1',
    headers: [
      ['Contact', '<sip:202@198.51.100.21:5070>'],
      ['Record-Route', '<sip:proxy2.example;lr>, <sip:proxy1.example;lr>'],
    ],
    body: ANSWER,
  });
  assert.is(s.state, 'confirmed');
  const acks = h.tx.acks();
  assert.is(acks.length, 1);
  const ack = acks[0]!;
  assert.is(ack.uri, 'sip:202@198.51.100.21:5070');
  assert.is(ack.headers.get('CSeq'), inv.request.headers.get('CSeq')!.replace('INVITE', 'ACK'));
  assert.equal(ack.headers.getAll('Route'), ['<sip:proxy1.example;lr>', '<sip:proxy2.example;lr>']);
  assert.is(ack.headers.get('To'), '<sip:202@surgery.example>;tag=peer1');
  assert.is.not(ack.headers.get('Via'), inv.request.headers.get('Via'), 'ACK for 2xx is a new transaction');
  assert.is(s.remoteBody!.body.toString(), ANSWER);
  assert.equal(log, ['state:early', 'progress:180', 'answered', 'answer:2xx', 'state:confirmed', 'confirmed']);
  // Every retransmitted 2xx gets the same ACK again (§13.2.2.4).
  inv.respond(200, { toTag: 'peer1', headers: [['Contact', '<sip:202@198.51.100.21:5070>']], body: ANSWER });
  inv.respond(200, { toTag: 'peer1', headers: [['Contact', '<sip:202@198.51.100.21:5070>']], body: ANSWER });
  assert.is(h.tx.acks().length, 3);
  assert.is(h.tx.acks()[2], ack);
  assert.is(log.filter((l) => l === 'answered').length, 1);
  // Stray 2xx after the transaction is gone (through the core) is ACKed too.
  h.ua.onStrayResponse(inv.responses[inv.responses.length - 1]!, { message: inv.responses[0]!, source: PEER, local: PEER });
  assert.is(h.tx.acks().length, 4);
});

test('BYE from us: terminating until its final response, then ended bye-local', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  const log = record(s);
  const inv = h.tx.lastSent('INVITE');
  inv.respond(200, { toTag: 'p', headers: [['Contact', '<sip:202@198.51.100.20:5062>']], body: ANSWER });
  const inviteSeq = Number(inv.request.headers.get('CSeq')!.split(' ')[0]);
  s.bye();
  assert.is(s.state, 'terminating');
  const bye = h.tx.lastSent('BYE');
  assert.is(bye.request.headers.get('CSeq'), `${inviteSeq + 1} BYE`);
  assert.is(bye.request.uri, 'sip:202@198.51.100.20:5062');
  bye.respond(200);
  assert.is(s.state, 'terminated');
  assert.is(log[log.length - 1], 'ended:bye-local');
  assert.equal(h.ua.counts(), { sessions: 0, dialogs: 0, serverInvites: 0 });
});

test('early media: 183 with SDP is reported; the 2xx answer is used; 2xx without body falls back to the early SDP', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  const log = record(s);
  const inv = h.tx.lastSent('INVITE');
  inv.respond(183, { toTag: 'p', body: ANSWER, headers: [['Contact', '<sip:p@198.51.100.20>']] });
  assert.is(log[1], 'progress:183');
  assert.is(s.offerAnswerState, 'local-offer', 'an unreliable 1xx answer is only a preview');
  inv.respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']] });
  assert.is(s.state, 'confirmed');
  assert.is(s.remoteBody!.body.toString(), ANSWER);
});

test('rejection ends the session with the status', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  const log = record(s);
  h.tx.lastSent('INVITE').respond(486, { toTag: 'p' });
  assert.is(s.state, 'terminated');
  assert.equal(s.endInfo!.cause, 'rejected');
  assert.is(s.endInfo!.status, 486);
  assert.equal(log, ['state:terminated', 'ended:rejected:486']);
});

test('timeout and transport error', () => {
  const h = harness();
  const a = call(h, { body: OFFER });
  h.tx.lastSent('INVITE').timeout();
  assert.is(a.endInfo!.cause, 'timeout');
  const b = call(h, { body: OFFER });
  h.tx.lastSent('INVITE').transportError();
  assert.is(b.endInfo!.cause, 'transport-error');
});

test('CANCEL waits for a provisional (§9.1), then copies the INVITE branch; 487 ends it cancelled', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  const log = record(s);
  s.cancel();
  assert.is(s.state, 'terminating');
  assert.is(h.tx.sent('CANCEL').length, 0, 'no CANCEL before any provisional');
  const inv = h.tx.lastSent('INVITE');
  inv.respond(100);
  const cancel = h.tx.lastSent('CANCEL').request;
  assert.is(cancel.uri, inv.request.uri);
  assert.is(cancel.headers.get('Via'), inv.request.headers.get('Via'));
  assert.is(cancel.headers.get('CSeq'), inv.request.headers.get('CSeq')!.replace('INVITE', 'CANCEL'));
  assert.is(cancel.headers.get('To'), inv.request.headers.get('To'));
  assert.is(cancel.headers.get('From'), inv.request.headers.get('From'));
  h.tx.lastSent('CANCEL').respond(200);
  inv.respond(487, { toTag: 'p' });
  assert.equal(s.endInfo, { cause: 'cancelled', status: 487, response: inv.responses[1] });
  assert.equal(log, ['state:terminating', 'state:terminated', 'ended:cancelled:487']);
});

test('CANCEL/200 race: the 2xx is ACKed and the call BYEd', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  const inv = h.tx.lastSent('INVITE');
  inv.respond(180, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']] });
  s.cancel();
  assert.is(h.tx.sent('CANCEL').length, 1);
  inv.respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']], body: ANSWER });
  assert.is(h.tx.acks().length, 1);
  const bye = h.tx.lastSent('BYE');
  assert.is(bye.request.headers.get('To'), '<sip:202@surgery.example>;tag=p');
  assert.is(s.state, 'terminating');
  bye.respond(200);
  assert.is(s.endInfo!.cause, 'cancelled');
});

test('CANCEL with no final response: given up after 64*T1', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  h.tx.lastSent('INVITE').respond(180, { toTag: 'p' });
  s.cancel();
  h.clock.advance(64 * 500 - 1);
  assert.is(s.state, 'terminating');
  h.clock.advance(1);
  assert.is(s.endInfo!.cause, 'cancelled');
});

test('401: retried once with credentials (new CSeq, same Call-ID and tag); a second 401 ends it', () => {
  const h = harness();
  const server = createDigestServer({ realm: 'trunk.example', clock: new FakeClock() });
  const s = call(h, { body: OFFER, credentials: { username: 'gw', password: 'pw' } });
  const first = h.tx.lastSent('INVITE');
  first.respond(401, { toTag: 'x', headers: server.challenge() });
  const second = h.tx.lastSent('INVITE');
  assert.is.not(second, first);
  const seq1 = Number(first.request.headers.get('CSeq')!.split(' ')[0]);
  assert.is(second.request.headers.get('CSeq'), `${seq1 + 1} INVITE`);
  assert.is(second.request.headers.get('Call-ID'), first.request.headers.get('Call-ID'));
  assert.is(second.request.headers.get('From'), first.request.headers.get('From'));
  assert.is.not(second.request.headers.get('Via'), first.request.headers.get('Via'));
  const cred = parseAuthHeader(second.request.headers.get('Authorization')!)[0]!.params;
  assert.is(cred.get('algorithm'), 'SHA-256');
  assert.is(cred.get('username'), 'gw');
  assert.equal(server.verify(second.request, () => 'pw'), { result: 'ok', username: 'gw' });
  // The ACK to the 2xx carries the same credentials (§22.1).
  second.respond(401, { toTag: 'x', headers: server.challenge() });
  assert.is(h.tx.sent('INVITE').length, 2, 'no loop on wrong credentials');
  assert.is(s.endInfo!.cause, 'rejected');
  assert.is(s.endInfo!.status, 401);
});

test('407 then 200: ACK carries Proxy-Authorization; stale=true earns another try', () => {
  const h = harness();
  const server = createDigestServer({ realm: 'proxy.example', clock: new FakeClock() });
  call(h, { body: OFFER, credentials: (realm) => (realm === 'proxy.example' ? { username: 'gw', password: 'pw' } : undefined) });
  h.tx.lastSent('INVITE').respond(407, { toTag: 'x', headers: server.challenge({ proxy: true }) });
  h.tx.lastSent('INVITE').respond(407, { toTag: 'x', headers: server.challenge({ proxy: true, stale: true }) });
  const third = h.tx.lastSent('INVITE');
  assert.is(h.tx.sent('INVITE').length, 3);
  assert.ok(third.request.headers.get('Proxy-Authorization'));
  assert.is(third.request.headers.getAll('Proxy-Authorization').length, 1);
  third.respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']], body: ANSWER });
  assert.is(h.tx.acks()[0]!.headers.get('Proxy-Authorization'), third.request.headers.get('Proxy-Authorization'));
});

test('no credentials: the 401 is final', () => {
  const h = harness();
  const server = createDigestServer({ realm: 'r', clock: new FakeClock() });
  const s = call(h, { body: OFFER });
  h.tx.lastSent('INVITE').respond(401, { toTag: 'x', headers: server.challenge() });
  assert.is(s.endInfo!.status, 401);
});

test('422: retried with the peer Min-SE as Session-Expires and Min-SE (RFC 4028 §7.1)', () => {
  const h = harness({ sessionTimer: { enabled: true, interval: 90, minSE: 90 } });
  const s = call(h, { body: OFFER });
  const first = h.tx.lastSent('INVITE');
  assert.is(first.request.headers.get('Session-Expires'), '90');
  first.respond(422, { toTag: 'x', headers: [['Min-SE', '600']] });
  const second = h.tx.lastSent('INVITE');
  assert.is.not(second, first);
  assert.is(second.request.headers.get('Session-Expires'), '600');
  assert.is(second.request.headers.get('Min-SE'), '600');
  second.respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>'], ['Session-Expires', '600;refresher=uac'], ['Require', 'timer']], body: ANSWER });
  assert.equal(s.sessionTimer, { interval: 600, localRefresher: true });
  // A 422 that does not raise the value is not retried forever.
  const t = call(h, { body: OFFER });
  h.tx.lastSent('INVITE').respond(422, { toTag: 'x', headers: [['Min-SE', '90']] });
  assert.is(t.endInfo!.status, 422);
});

test('late offer: INVITE without SDP, offer in the 2xx, answer in the ACK', async () => {
  const h = harness();
  const answers: string[] = [];
  const s = call(h, {
    mediaHandler: {
      createOffer: () => Promise.reject(new Error('unused')),
      answerOffer: (offer) => {
        answers.push(offer.body.toString());
        return Promise.resolve(sdp('our-answer'));
      },
    },
  });
  const log = record(s);
  const inv = h.tx.lastSent('INVITE');
  assert.is(inv.request.body.length, 0);
  assert.is(inv.request.headers.get('Content-Type'), undefined);
  inv.respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']], body: 'v=0\r\no=- their-offer\r\n' });
  assert.is(s.state, 'connecting');
  assert.is(h.tx.acks().length, 0, 'the ACK waits for the answer');
  // A 2xx retransmission meanwhile is not ACKed without the answer.
  inv.respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']], body: 'v=0\r\no=- their-offer\r\n' });
  await flush();
  assert.is(h.tx.acks().length, 1);
  const ack = h.tx.acks()[0]!;
  assert.is(ack.body.toString(), sdp('our-answer').body.toString());
  assert.is(ack.headers.get('Content-Type'), 'application/sdp');
  assert.equal(answers, ['v=0\r\no=- their-offer\r\n']);
  assert.is(s.state, 'confirmed');
  assert.is(s.offerAnswerState, 'stable');
  assert.equal(log, ['answered', 'offer:2xx', 'state:connecting', 'state:confirmed', 'confirmed']);
});

test('late offer without a media handler: ACK then BYE (failed)', () => {
  const h = harness();
  const s = call(h);
  h.tx.lastSent('INVITE').respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']], body: 'v=0\r\n' });
  return flush().then(() => {
    assert.is(h.tx.acks().length, 1);
    h.tx.lastSent('BYE').respond(200);
    assert.is(s.endInfo!.cause, 'failed');
  });
});

test('2xx with no answer to our offer: ACK then BYE (failed)', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  h.tx.lastSent('INVITE').respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']] });
  assert.is(h.tx.acks().length, 1);
  h.tx.lastSent('BYE').respond(200);
  assert.is(s.endInfo!.cause, 'failed');
});

test('PRACK: every reliable 1xx once (RAck), retransmissions ignored, answer taken from the reliable 183', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  const log = record(s);
  const inv = h.tx.lastSent('INVITE');
  const invSeq = inv.request.headers.get('CSeq')!.split(' ')[0];
  const rel = (rseq: number, status = 183, body?: string): void => {
    inv.respond(status, { toTag: 'p', headers: [['Require', '100rel'], ['RSeq', String(rseq)], ['Contact', '<sip:p@198.51.100.20>']], ...(body ? { body } : {}) });
  };
  rel(7, 183, ANSWER);
  assert.is(h.tx.sent('PRACK').length, 1);
  const prack = h.tx.lastSent('PRACK').request;
  assert.is(prack.headers.get('RAck'), `7 ${invSeq} INVITE`);
  assert.is(prack.headers.get('CSeq'), `${Number(invSeq) + 1} PRACK`);
  assert.is(prack.headers.get('To'), '<sip:202@surgery.example>;tag=p');
  assert.is(s.offerAnswerState, 'stable', 'the reliable 183 carried the answer');
  rel(7, 183, ANSWER); // retransmission
  rel(7, 183, ANSWER);
  assert.is(h.tx.sent('PRACK').length, 1);
  rel(9, 180); // out of order: ignored
  assert.is(h.tx.sent('PRACK').length, 1);
  rel(8, 180);
  assert.is(h.tx.sent('PRACK').length, 2);
  assert.is(h.tx.lastSent('PRACK').request.headers.get('RAck'), `8 ${invSeq} INVITE`);
  h.tx.lastSent('PRACK').respond(200);
  inv.respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']] });
  assert.is(s.state, 'confirmed');
  assert.equal(log, ['state:early', 'answer:reliable-1xx', 'progress:183:reliable', 'progress:180:reliable', 'answered', 'state:confirmed', 'confirmed']);
});

test('PRACK carries our answer when the reliable 1xx had the offer', async () => {
  const h = harness();
  const s = call(h, {
    mediaHandler: {
      createOffer: () => Promise.reject(new Error('unused')),
      answerOffer: () => Promise.resolve(sdp('prack-answer')),
    },
  });
  const inv = h.tx.lastSent('INVITE');
  inv.respond(183, { toTag: 'p', headers: [['Require', '100rel'], ['RSeq', '1'], ['Contact', '<sip:p@198.51.100.20>']], body: 'v=0\r\no=- their-offer\r\n' });
  assert.is(s.offerAnswerState, 'remote-offer');
  await flush();
  const prack = h.tx.lastSent('PRACK').request;
  assert.is(prack.body.toString(), sdp('prack-answer').body.toString());
  assert.is(s.offerAnswerState, 'stable');
  inv.respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']] });
  assert.is(s.state, 'confirmed');
  assert.is(h.tx.acks()[0]!.body.length, 0);
});

test('a second fork answering is ACKed and BYEd; the first stays', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  const inv = h.tx.lastSent('INVITE');
  inv.respond(200, { toTag: 'a', headers: [['Contact', '<sip:a@198.51.100.20>']], body: ANSWER });
  inv.respond(200, { toTag: 'b', headers: [['Contact', '<sip:b@198.51.100.30>']], body: ANSWER });
  assert.is(h.tx.acks().length, 2);
  const bye = h.tx.lastSent('BYE').request;
  assert.is(bye.headers.get('To'), '<sip:202@surgery.example>;tag=b');
  assert.is(bye.uri, 'sip:b@198.51.100.30');
  assert.is(s.state, 'confirmed');
  assert.is(s.dialog!.id.remoteTag, 'a');
});

test('a 2xx after the session ended (cancel guard fired) is ACKed and BYEd', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  const inv = h.tx.lastSent('INVITE');
  inv.respond(180, { toTag: 'p' });
  s.cancel();
  h.clock.advance(32_000);
  assert.is(s.state, 'terminated');
  inv.respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>']], body: ANSWER });
  assert.is(h.tx.acks().length, 1);
  assert.is(h.tx.sent('BYE').length, 1);
});

test('tlsServerName travels with every request of the call', () => {
  const h = harness();
  const tls = { protocol: 'tls' as const, address: '198.51.100.20', port: 5061 };
  const s = call(h, { body: OFFER, destination: tls, tlsServerName: 'trunk.example' });
  const inv = h.tx.lastSent('INVITE');
  assert.is(inv.tlsServerName, 'trunk.example');
  inv.respond(180, { toTag: 'p' });
  s.cancel();
  assert.is(h.tx.lastSent('CANCEL').tlsServerName, 'trunk.example');
  inv.respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20:5061;transport=tls>']], body: ANSWER });
  assert.is(h.tx.stateless[0]!.tlsServerName, 'trunk.example');
  assert.is(h.tx.lastSent('BYE').tlsServerName, 'trunk.example');
});

test('bye() while ringing out cancels', () => {
  const h = harness();
  const s = call(h, { body: OFFER });
  h.tx.lastSent('INVITE').respond(180, { toTag: 'p' });
  s.bye();
  assert.is(h.tx.sent('CANCEL').length, 1);
});

test.run();
