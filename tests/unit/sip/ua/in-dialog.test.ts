import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { InviteSession } from '../../../../firmware/src/sip/ua/invite-session.js';
import type { SessionMediaHandler } from '../../../../firmware/src/sip/ua/session-types.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import { request, sdp, type FakeServerTx } from './fake-transactions.js';
import { call, flush, harness, record, type Harness } from './harness.js';

const PEER_SDP = 'v=0\r\no=- peer 1\r\n';

/** A confirmed outgoing call (we are the UAC, we own the Call-ID). */
function uacCall(h: Harness, o: { allow?: string; timer?: string; media?: SessionMediaHandler } = {}): InviteSession {
  const s = call(h, { body: sdp('ours-1'), ...(o.media ? { mediaHandler: o.media } : {}) });
  const headers: [string, string][] = [['Contact', '<sip:202@198.51.100.20:5062>']];
  if (o.allow) headers.push(['Allow', o.allow]);
  if (o.timer) headers.push(['Session-Expires', o.timer]);
  h.tx.lastSent('INVITE').respond(200, { toTag: 'peer', headers, body: PEER_SDP });
  assert.is(s.state, 'confirmed');
  return s;
}

/** A request from the peer inside the UAC call's dialog. */
function fromPeer(s: InviteSession, method: string, cseq: number, o: { headers?: [string, string][]; body?: string; contentType?: string } = {}): SipRequest {
  return request(method, {
    uri: 'sip:192.0.2.10:5060',
    from: '<sip:202@surgery.example>;tag=peer',
    to: `"Reception" <sip:201@surgery.example>;tag=${s.localTag}`,
    callId: s.callId,
    cseq,
    ...o,
  });
}

/** A confirmed incoming call (the peer owns the Call-ID). */
async function uasCall(h: Harness, o: { headers?: [string, string][]; media?: SessionMediaHandler } = {}): Promise<InviteSession> {
  let s: InviteSession | undefined;
  h.ua.delegate = { onInvite: (x) => (s = x) };
  h.tx.receive(
    request('INVITE', {
      from: '<sip:201@surgery.example>;tag=ph',
      to: '<sip:202@surgery.example>',
      callId: 'in-1',
      cseq: 1,
      headers: [['Contact', '<sip:201@198.51.100.20:5062>'], ...(o.headers ?? [])],
      body: PEER_SDP,
    }),
  );
  if (o.media) s!.mediaHandler = o.media;
  await s!.accept({ body: sdp('ours-1') });
  h.tx.receive(request('ACK', { from: '<sip:201@surgery.example>;tag=ph', to: `<sip:202@surgery.example>;tag=${s!.localTag}`, callId: 'in-1', cseq: 1 }));
  assert.is(s!.state, 'confirmed');
  return s!;
}

const media = (answers: string[] = []): SessionMediaHandler => ({
  createOffer: (ctx) => Promise.resolve(sdp(`offer-${ctx.reason}`)),
  answerOffer: (offer) => {
    answers.push(offer.body.toString());
    return Promise.resolve(sdp('answer'));
  },
});

test('outgoing re-INVITE: offer, 2xx answer, ACK, target refresh; 2xx retransmission re-ACKed', async () => {
  const h = harness();
  const s = uacCall(h);
  const log = record(s);
  const p = s.reinvite({ body: sdp('hold') });
  await flush();
  const re = h.tx.lastSent('INVITE');
  assert.is(re.request.uri, 'sip:202@198.51.100.20:5062');
  assert.is(re.request.headers.get('Contact'), '<sip:192.0.2.10:5060>');
  assert.is(re.request.body.toString(), sdp('hold').body.toString());
  assert.is(s.offerAnswerState, 'local-offer');
  re.respond(200, { headers: [['Contact', '<sip:202@198.51.100.99:5064>']], body: 'v=0\r\no=- peer 2\r\n' });
  const r = await p;
  assert.is(r.status, 200);
  assert.is(s.offerAnswerState, 'stable');
  assert.is(s.remoteBody!.body.toString(), 'v=0\r\no=- peer 2\r\n');
  assert.is(s.dialog!.remoteTarget, 'sip:202@198.51.100.99:5064');
  const ack = h.tx.acks()[1]!;
  assert.is(ack.headers.get('CSeq'), re.request.headers.get('CSeq')!.replace('INVITE', 'ACK'));
  assert.is(ack.uri, 'sip:202@198.51.100.99:5064');
  re.respond(200, { headers: [['Contact', '<sip:202@198.51.100.99:5064>']], body: 'v=0\r\no=- peer 2\r\n' });
  assert.is(h.tx.acks().length, 3);
  assert.ok(log.includes('target-refresh'));
  assert.ok(log.includes('answer:reinvite'));
});

test('re-INVITE with offer: false goes without a body although a media handler could offer; the offer comes in the 2xx', async () => {
  const h = harness();
  const answers: string[] = [];
  const s = uacCall(h, { media: media(answers) });
  const p = s.reinvite({ offer: false, retryGlare: false });
  await flush();
  const re = h.tx.lastSent('INVITE');
  assert.is(re.request.body.length, 0, 'no SDP in the re-INVITE');
  re.respond(200, { headers: [['Contact', '<sip:202@198.51.100.20:5062>']], body: 'v=0\r\no=- peer 2\r\n' });
  assert.is((await p).status, 200);
  await flush();
  assert.equal(answers, ['v=0\r\no=- peer 2\r\n'], 'the 2xx offer went to the media handler for the answer');
  // Without offer: false the same session offers from its media handler.
  const q = s.reinvite({ retryGlare: false });
  await flush();
  assert.is(h.tx.lastSent('INVITE').request.body.toString(), sdp('offer-reinvite').body.toString());
  h.tx.lastSent('INVITE').respond(200, { headers: [['Contact', '<sip:202@198.51.100.20:5062>']], body: PEER_SDP });
  await q;
});

test('outgoing re-INVITE refused (488): offer rolled back, session goes on', async () => {
  const h = harness();
  const s = uacCall(h);
  const p = s.reinvite({ body: sdp('video') });
  await flush();
  h.tx.lastSent('INVITE').respond(488);
  assert.is((await p).status, 488);
  assert.is(s.offerAnswerState, 'stable');
  assert.is(s.localBody!.body.toString(), sdp('ours-1').body.toString());
  assert.is(s.state, 'confirmed');
});

test('481 to a re-INVITE ends the session; 408 ends it with BYE (§12.2.1.2)', async () => {
  const h = harness();
  const a = uacCall(h);
  const p = a.reinvite({ body: sdp('x') });
  await flush();
  h.tx.lastSent('INVITE').respond(481);
  await p;
  assert.is(a.endInfo!.cause, 'failed');
  const b = uacCall(h);
  const q = b.reinvite({ body: sdp('x') });
  await flush();
  h.tx.lastSent('INVITE').timeout();
  assert.is((await q).status, 408);
  assert.is(b.state, 'terminating');
  h.tx.lastSent('BYE').respond(200);
  assert.is(b.endInfo!.cause, 'timeout');
});

test('491 glare as owner of the Call-ID: retry after 2.1–4 s in 10 ms steps', async () => {
  for (const [rnd, expected] of [
    [0, 2100],
    [0.5, 3050],
    [0.99999, 4000],
  ] as const) {
    const h = harness();
    const s = uacCall(h);
    const p = s.reinvite({ body: sdp('hold') });
    await flush();
    h.randoms.push(rnd);
    h.tx.lastSent('INVITE').respond(491);
    assert.is(s.offerAnswerState, 'stable');
    const before = h.tx.sent('INVITE').length;
    h.clock.advance(expected - 1);
    assert.is(h.tx.sent('INVITE').length, before, `not before ${expected} ms`);
    h.clock.advance(1);
    assert.is(h.tx.sent('INVITE').length, before + 1, `retried at ${expected} ms`);
    const retry = h.tx.lastSent('INVITE');
    assert.is(retry.request.body.toString(), sdp('hold').body.toString());
    retry.respond(200, { headers: [['Contact', '<sip:202@198.51.100.20:5062>']], body: PEER_SDP });
    assert.is((await p).status, 200);
  }
});

test('491 glare when the peer owns the Call-ID: retry after 0–2 s', async () => {
  for (const [rnd, expected] of [
    [0, 0],
    [0.5, 1000],
    [0.99999, 2000],
  ] as const) {
    const h = harness();
    const s = await uasCall(h);
    const p = s.reinvite({ body: sdp('hold') });
    await flush();
    h.randoms.push(rnd);
    h.tx.lastSent('INVITE').respond(491);
    const before = h.tx.sent('INVITE').length;
    if (expected > 0) {
      h.clock.advance(expected - 1);
      assert.is(h.tx.sent('INVITE').length, before);
    }
    h.clock.advance(expected > 0 ? 1 : 0);
    assert.is(h.tx.sent('INVITE').length, before + 1, `retried at ${expected} ms`);
    h.tx.lastSent('INVITE').respond(200, { body: PEER_SDP });
    assert.is((await p).status, 200);
  }
});

test('retryGlare: false hands the 491 back at once (a B2BUA relaying the offer lets its offerer retry)', async () => {
  const h = harness();
  const s = uacCall(h);
  const p = s.reinvite({ body: sdp('hold'), retryGlare: false });
  await flush();
  h.tx.lastSent('INVITE').respond(491);
  assert.is((await p).status, 491);
  assert.is(s.offerAnswerState, 'stable');
  h.clock.advance(10_000);
  assert.is(h.tx.sent('INVITE').length, 2, 'initial INVITE and the one re-INVITE, no retry');
  const q = s.update({ body: sdp('x'), retryGlare: false });
  await flush();
  h.tx.lastSent('UPDATE').respond(491);
  assert.is((await q).status, 491);
});

test('glare retries are bounded', async () => {
  const h = harness({ maxGlareRetries: 2 });
  const s = uacCall(h);
  const p = s.reinvite({ body: sdp('hold') });
  await flush();
  for (let i = 0; i < 3; i++) {
    h.tx.lastSent('INVITE').respond(491);
    h.clock.advance(4000);
  }
  assert.is((await p).status, 491);
  assert.is(h.tx.sent('INVITE').length, 1 + 3);
});

test('incoming re-INVITE while ours is pending: 491; a second incoming one before we answer: 500 + Retry-After', async () => {
  const h = harness();
  let release: (() => void) | undefined;
  const slow: SessionMediaHandler = {
    createOffer: () => Promise.resolve(sdp('o')),
    answerOffer: () => new Promise((res) => (release = () => res(sdp('slow-answer')))),
  };
  const s = uacCall(h, { media: slow });
  void s.reinvite({ body: sdp('hold') });
  await flush();
  const glare = h.tx.receive(fromPeer(s, 'INVITE', 5, { body: 'v=0\r\no=- peer 9\r\n', headers: [['Contact', '<sip:202@198.51.100.20:5062>']] }));
  assert.is(glare.final!.status, 491);
  h.tx.lastSent('INVITE').respond(200, { body: PEER_SDP });
  await flush();
  const first = h.tx.receive(fromPeer(s, 'INVITE', 6, { body: 'v=0\r\no=- peer 10\r\n', headers: [['Contact', '<sip:202@198.51.100.20:5062>']] }));
  await flush();
  assert.is(first.final, undefined, 'waiting for the media handler');
  const second = h.tx.receive(fromPeer(s, 'INVITE', 7, { body: 'v=0\r\no=- peer 11\r\n', headers: [['Contact', '<sip:202@198.51.100.20:5062>']] }));
  assert.is(second.final!.status, 500);
  const ra = Number(second.final!.headers.get('Retry-After'));
  assert.ok(ra >= 0 && ra <= 10);
  release!();
  await flush();
  assert.is(first.final!.status, 200);
  assert.is(first.final!.body.toString(), sdp('slow-answer').body.toString());
});

test('incoming re-INVITE (hold): media handler answers, 200 has Contact, retransmitted until ACK; target refreshed', async () => {
  const h = harness();
  const answers: string[] = [];
  const s = uacCall(h, { media: media(answers) });
  const log = record(s);
  const tx = h.tx.receive(fromPeer(s, 'INVITE', 5, { body: 'v=0\r\na=sendonly\r\n', headers: [['Contact', '<sip:202@198.51.100.55:5062>']] }));
  await flush();
  assert.equal(answers, ['v=0\r\na=sendonly\r\n']);
  const ok = tx.final!;
  assert.is(ok.status, 200);
  assert.is(ok.headers.get('Contact'), '<sip:192.0.2.10:5060>');
  assert.is(ok.body.toString(), sdp('answer').body.toString());
  assert.is(s.dialog!.remoteTarget, 'sip:202@198.51.100.55:5062');
  const base = h.tx.statelessResponses.length;
  h.clock.advance(1500);
  assert.is(h.tx.statelessResponses.length, base + 2);
  h.tx.receive(fromPeer(s, 'ACK', 5));
  h.clock.advance(10_000);
  assert.is(h.tx.statelessResponses.length, base + 2);
  assert.ok(log.includes('offer:reinvite'));
  assert.ok(log.includes('target-refresh'));
});

test('incoming re-INVITE without a media handler: a repeated offer gets our last answer; a new one gets 488', async () => {
  const h = harness();
  const s = uacCall(h);
  const same = h.tx.receive(fromPeer(s, 'INVITE', 5, { body: PEER_SDP }));
  await flush();
  assert.is(same.final!.status, 200);
  assert.is(same.final!.body.toString(), sdp('ours-1').body.toString());
  h.tx.receive(fromPeer(s, 'ACK', 5));
  const other = h.tx.receive(fromPeer(s, 'INVITE', 6, { body: 'v=0\r\nnew\r\n' }));
  await flush();
  assert.is(other.final!.status, 488);
  assert.is(s.offerAnswerState, 'stable');
  assert.is(s.state, 'confirmed');
});

test('incoming offerless re-INVITE: our offer in the 200, answer in the ACK', async () => {
  const h = harness();
  const s = uacCall(h, { media: media() });
  const tx = h.tx.receive(fromPeer(s, 'INVITE', 5));
  await flush();
  assert.is(tx.final!.body.toString(), sdp('offer-reinvite').body.toString());
  assert.is(s.offerAnswerState, 'local-offer');
  h.tx.receive(fromPeer(s, 'ACK', 5, { body: 'v=0\r\nans\r\n' }));
  assert.is(s.offerAnswerState, 'stable');
  assert.is(s.remoteBody!.body.toString(), 'v=0\r\nans\r\n');
});

test('incoming offerless re-INVITE whose ACK brings no answer: the offer is withdrawn, the call goes on, the handler is told', async () => {
  const h = harness();
  const missing: string[] = [];
  const s = uacCall(h, { media: { ...media(), answerMissing: (ctx) => missing.push(`${ctx.reason}/${ctx.carrier}`) } });
  const before = s.remoteBody!.body.toString();
  const tx = h.tx.receive(fromPeer(s, 'INVITE', 5));
  await flush();
  assert.is(tx.final!.status, 200);
  h.tx.receive(fromPeer(s, 'ACK', 5));
  await flush();
  assert.equal(missing, ['reinvite/2xx']);
  assert.is(s.offerAnswerState, 'stable');
  assert.is(s.state, 'confirmed');
  assert.is(s.remoteBody!.body.toString(), before, 'the session it had');
  assert.is(h.tx.sent('BYE').length, 0, 'no BYE: a running call is not ended for it');
});

test('CANCEL of an incoming re-INVITE: 487 and the offer is rolled back', async () => {
  const h = harness();
  const s = uacCall(h, {
    media: { createOffer: () => Promise.resolve(sdp('o')), answerOffer: () => new Promise(() => undefined) },
  });
  const tx = h.tx.receive(fromPeer(s, 'INVITE', 5, { body: 'v=0\r\nx\r\n' }));
  await flush();
  h.tx.cancel(tx);
  assert.is(tx.final!.status, 487);
  assert.is(s.offerAnswerState, 'stable');
  assert.is(s.state, 'confirmed');
});

test('UPDATE both ways; UPDATE offer while ours is pending: 491; while theirs is pending: 500 + Retry-After', async () => {
  const h = harness();
  let release: (() => void) | undefined;
  const s = uacCall(h, {
    media: {
      createOffer: () => Promise.resolve(sdp('o')),
      answerOffer: () => new Promise((res) => (release = () => res(sdp('upd-answer')))),
    },
  });
  // Outgoing UPDATE with an offer.
  const p = s.update({ body: sdp('upd-offer') });
  await flush();
  const upd = h.tx.lastSent('UPDATE');
  assert.is(upd.request.headers.get('Contact'), '<sip:192.0.2.10:5060>');
  const crossing = h.tx.receive(fromPeer(s, 'UPDATE', 5, { body: 'v=0\r\ncross\r\n' }));
  assert.is(crossing.final!.status, 491);
  upd.respond(200, { body: 'v=0\r\nupd-peer\r\n' });
  assert.is((await p).status, 200);
  assert.is(s.remoteBody!.body.toString(), 'v=0\r\nupd-peer\r\n');
  // Incoming UPDATE with an offer, slow answer; a second offer meanwhile.
  const a = h.tx.receive(fromPeer(s, 'UPDATE', 6, { body: 'v=0\r\nin1\r\n', headers: [['Contact', '<sip:202@198.51.100.77>']] }));
  await flush();
  const b = h.tx.receive(fromPeer(s, 'UPDATE', 7, { body: 'v=0\r\nin2\r\n' }));
  assert.is(b.final!.status, 500);
  assert.ok(b.final!.headers.get('Retry-After'));
  release!();
  await flush();
  assert.is(a.final!.status, 200);
  assert.is(a.final!.body.toString(), sdp('upd-answer').body.toString());
  assert.is(s.dialog!.remoteTarget, 'sip:202@198.51.100.77');
  // An UPDATE without a body is a plain refresh.
  const c = h.tx.receive(fromPeer(s, 'UPDATE', 8));
  assert.is(c.final!.status, 200);
  assert.is(c.final!.body.length, 0);
});

test('BYE from the peer: 200, ended bye-remote; later requests get 481 from the core', () => {
  const h = harness();
  const s = uacCall(h);
  const bye = h.tx.receive(fromPeer(s, 'BYE', 5));
  assert.is(bye.final!.status, 200);
  assert.is(s.endInfo!.cause, 'bye-remote');
  const late = h.tx.receive(fromPeer(s, 'INFO', 6));
  assert.is(late.final!.status, 481);
});

test('a request with a lower CSeq gets 500 (§12.2.2)', () => {
  const h = harness();
  const s = uacCall(h);
  h.tx.receive(fromPeer(s, 'OPTIONS', 10));
  const old = h.tx.receive(fromPeer(s, 'OPTIONS', 9));
  assert.is(old.final!.status, 500);
});

test('other in-dialog requests go to the request event; OPTIONS answered by default; INFO 501 without a listener', async () => {
  const h = harness();
  const s = uacCall(h);
  const opt = h.tx.receive(fromPeer(s, 'OPTIONS', 5));
  assert.is(opt.final!.status, 200);
  const info = h.tx.receive(fromPeer(s, 'INFO', 6));
  assert.is(info.final!.status, 501);
  const seen: string[] = [];
  s.on('request', ({ request: r, tx }) => {
    seen.push(r.method);
    tx.respond({ ...info.final!, status: 200, reason: 'OK' });
  });
  h.tx.receive(fromPeer(s, 'INFO', 7, { body: 'Signal=5', contentType: 'application/dtmf-relay' }));
  assert.equal(seen, ['INFO']);
  // And we can send one.
  const p = s.sendRequest('INFO', { body: { contentType: 'application/dtmf-relay', body: Buffer.from('Signal=1\r\n') } });
  const out = h.tx.lastSent('INFO');
  assert.is(out.request.headers.get('Content-Type'), 'application/dtmf-relay');
  out.respond(200);
  assert.is((await p).status, 200);
});

test('in-dialog 401: re-sent once with credentials', () => {
  const h = harness();
  const s = call(h, { body: sdp('x'), credentials: { username: 'u', password: 'p' } });
  h.tx.lastSent('INVITE').respond(200, { toTag: 'peer', headers: [['Contact', '<sip:p@198.51.100.20>']], body: PEER_SDP });
  s.bye();
  h.tx.lastSent('BYE').respond(401, { headers: [['WWW-Authenticate', 'Digest realm="r", nonce="n", qop="auth"']] });
  const byes = h.tx.sent('BYE');
  assert.is(byes.length, 2);
  assert.ok(byes[1]!.request.headers.get('Authorization'));
  assert.is(Number(byes[1]!.request.headers.get('CSeq')!.split(' ')[0]), Number(byes[0]!.request.headers.get('CSeq')!.split(' ')[0]) + 1);
  byes[1]!.respond(401, { headers: [['WWW-Authenticate', 'Digest realm="r", nonce="n2", qop="auth"']] });
  assert.is(h.tx.sent('BYE').length, 2);
  assert.is(s.state, 'terminated');
});

test('session timer, we refresh with UPDATE at half the interval when the peer allows it', async () => {
  const h = harness({ sessionTimer: { enabled: true, interval: 600, minSE: 90 } });
  const s = uacCall(h, { allow: 'INVITE, ACK, BYE, CANCEL, UPDATE', timer: '600;refresher=uac' });
  assert.equal(s.sessionTimer, { interval: 600, localRefresher: true });
  h.clock.advance(299_999);
  assert.is(h.tx.sent('UPDATE').length, 0);
  h.clock.advance(1);
  const upd = h.tx.lastSent('UPDATE');
  assert.is(upd.request.body.length, 0);
  assert.is(upd.request.headers.get('Session-Expires'), '600;refresher=uac');
  assert.is(upd.request.headers.get('Min-SE'), '90');
  upd.respond(200, { headers: [['Session-Expires', '600;refresher=uac'], ['Require', 'timer']] });
  await flush();
  // Restarted from the refresh: the next one 300 s later.
  h.clock.advance(299_999);
  assert.is(h.tx.sent('UPDATE').length, 1);
  h.clock.advance(1);
  assert.is(h.tx.sent('UPDATE').length, 2);
  assert.is(s.state, 'confirmed');
});

test('session timer refresh by re-INVITE (peer without UPDATE) repeats our description', async () => {
  const h = harness({ sessionTimer: { enabled: true, interval: 600, minSE: 90 } });
  const s = uacCall(h, { allow: 'INVITE, ACK, BYE, CANCEL', timer: '600;refresher=uac' });
  h.clock.advance(300_000);
  await flush();
  const re = h.tx.lastSent('INVITE');
  assert.is(h.tx.sent('INVITE').length, 2);
  assert.is(re.request.body.toString(), sdp('ours-1').body.toString());
  assert.is(re.request.headers.get('Session-Expires'), '600;refresher=uac');
  re.respond(200, { headers: [['Session-Expires', '600;refresher=uac']], body: PEER_SDP });
  await flush();
  assert.is(h.tx.acks().length, 2);
  assert.is(s.offerAnswerState, 'stable');
});

test('refresher whose refreshes fail: BYE at the interval (session-expired)', async () => {
  const h = harness({ sessionTimer: { enabled: true, interval: 600, minSE: 90 } });
  const s = uacCall(h, { allow: 'INVITE, ACK, BYE, CANCEL, UPDATE', timer: '600;refresher=uac' });
  h.clock.advance(300_000);
  h.tx.lastSent('UPDATE').respond(500);
  await flush();
  h.clock.advance(299_999);
  assert.is(h.tx.sent('BYE').length, 0);
  h.clock.advance(1);
  h.tx.lastSent('BYE').respond(200);
  assert.is(s.endInfo!.cause, 'session-expired');
});

test('not the refresher: BYE at interval - min(32 s, interval/3) without a refresh; a refresh resets it', async () => {
  const h = harness({ sessionTimer: { enabled: true, interval: 1800, minSE: 90 } });
  const s = uacCall(h, { timer: '1800;refresher=uas' });
  assert.equal(s.sessionTimer, { interval: 1800, localRefresher: false });
  // 1800 - 32 = 1768 s. The peer refreshes at 900 s with UPDATE.
  h.clock.advance(900_000);
  const upd = h.tx.receive(fromPeer(s, 'UPDATE', 5, { headers: [['Session-Expires', '1800;refresher=uac'], ['Supported', 'timer']] }));
  assert.is(upd.final!.headers.get('Session-Expires'), '1800;refresher=uac');
  assert.equal(s.sessionTimer, { interval: 1800, localRefresher: false });
  h.clock.advance(1_767_999);
  assert.is(h.tx.sent('BYE').length, 0);
  h.clock.advance(1);
  const bye = h.tx.lastSent('BYE');
  bye.respond(200);
  assert.is(s.endInfo!.cause, 'session-expired');
  // Short interval: margin is interval/3 (90 s → BYE at 60 s).
  const h2 = harness({ sessionTimer: { enabled: true, interval: 90, minSE: 90 } });
  uacCall(h2, { timer: '90;refresher=uas' });
  h2.clock.advance(59_999);
  assert.is(h2.tx.sent('BYE').length, 0);
  h2.clock.advance(1);
  assert.is(h2.tx.sent('BYE').length, 1);
});

test('UAS refresher (peer without timer support) refreshes too; 422 to our refresh retries with the larger Min-SE', async () => {
  const h = harness({ sessionTimer: { enabled: true, interval: 600, minSE: 90 } });
  const s = await uasCall(h, { headers: [['Allow', 'INVITE, ACK, BYE, UPDATE']] });
  assert.equal(s.sessionTimer, { interval: 600, localRefresher: true });
  h.clock.advance(300_000);
  const upd = h.tx.lastSent('UPDATE');
  assert.is(upd.request.headers.get('Session-Expires'), '600;refresher=uac');
  upd.respond(422, { headers: [['Min-SE', '1000']] });
  const retry = h.tx.lastSent('UPDATE');
  assert.is.not(retry, upd);
  assert.is(retry.request.headers.get('Session-Expires'), '1000;refresher=uac');
  assert.is(retry.request.headers.get('Min-SE'), '1000');
  retry.respond(200, { headers: [['Session-Expires', '1000;refresher=uac']] });
  await flush();
  assert.equal(s.sessionTimer, { interval: 1000, localRefresher: true });
});

test('incoming refresh with too small a Session-Expires: 422 (RFC 4028 §8.1)', async () => {
  const h = harness({ sessionTimer: { enabled: true, interval: 1800, minSE: 300 } });
  const s = uacCall(h);
  const upd: FakeServerTx = h.tx.receive(fromPeer(s, 'UPDATE', 5, { headers: [['Session-Expires', '100']] }));
  assert.is(upd.final!.status, 422);
  assert.is(upd.final!.headers.get('Min-SE'), '300');
});

test('a 2xx without Session-Expires means no session timer', () => {
  const h = harness();
  const s = uacCall(h);
  assert.is(s.sessionTimer, undefined);
  h.clock.advance(10_000_000);
  assert.is(h.tx.sent('BYE').length, 0);
  assert.is(h.tx.sent('UPDATE').length, 0);
});

test('session timers off: nothing offered, nothing run', async () => {
  const h = harness({ sessionTimer: { enabled: false, interval: 1800, minSE: 90 } });
  const s = call(h, { body: sdp('x') });
  const inv = h.tx.lastSent('INVITE').request;
  assert.is(inv.headers.get('Session-Expires'), undefined);
  assert.is(inv.headers.get('Supported'), '100rel');
  h.tx.lastSent('INVITE').respond(200, { toTag: 'p', headers: [['Contact', '<sip:p@198.51.100.20>'], ['Session-Expires', '90;refresher=uac']], body: PEER_SDP });
  assert.is(s.sessionTimer, undefined);
});

test.run();
