import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDigestServer } from '../../../../firmware/src/sip/auth/digest-server.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import type { ServerTransaction } from '../../../../firmware/src/sip/transaction/api.js';
import type { InviteSession } from '../../../../firmware/src/sip/ua/invite-session.js';
import { UserAgentCore } from '../../../../firmware/src/sip/ua/user-agent-core.js';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { FakeTransactions, PEER, request } from './fake-transactions.js';
import { flush, harness } from './harness.js';

const req = (method: string, o: { to?: string; cseq?: number } = {}): SipRequest =>
  request(method, { from: '<sip:201@surgery.example>;tag=a', to: o.to ?? '<sip:gw@surgery.example>', callId: `c-${method}`, cseq: o.cseq ?? 1, headers: [['Contact', '<sip:201@198.51.100.20>']] });

test('out-of-dialog requests go to the delegate; without one OPTIONS is 200 and others 405 with Allow', () => {
  const h = harness();
  const opt = h.tx.receive(req('OPTIONS'));
  assert.is(opt.final!.status, 200);
  assert.ok(opt.final!.headers.get('Allow')!.includes('INVITE'));
  const msg = h.tx.receive(req('MESSAGE'));
  assert.is(msg.final!.status, 405);
  const seen: string[] = [];
  h.ua.delegate = {
    onRequest: (r, tx) => {
      seen.push(r.method);
      tx!.respond({ kind: 'response', status: 202, reason: 'Accepted', headers: r.headers.clone(), body: Buffer.alloc(0) });
    },
  };
  h.tx.receive(req('REGISTER'));
  h.tx.receive(req('SUBSCRIBE'));
  assert.equal(seen, ['REGISTER', 'SUBSCRIBE']);
});

test('requests for unknown dialogs: 481 (§12.2.2); BYE/PRACK/UPDATE/CANCEL without a dialog too; stray ACK dropped', () => {
  const h = harness();
  for (const m of ['BYE', 'INVITE', 'UPDATE', 'PRACK']) {
    const tx = h.tx.receive(req(m, { to: '<sip:gw@surgery.example>;tag=nope' }));
    assert.is(tx.final!.status, 481, m);
  }
  for (const m of ['BYE', 'PRACK', 'UPDATE', 'CANCEL']) assert.is(h.tx.receive(req(m)).final!.status, 481, m);
  const ack = h.tx.receive(req('ACK', { to: '<sip:gw@surgery.example>;tag=nope' }));
  assert.is(ack.responses.length, 0);
  // In-dialog requests of other usages (a subscription) go to the delegate.
  let got = '';
  h.ua.delegate = { onRequest: (r) => (got = r.method) };
  h.tx.receive(req('NOTIFY', { to: '<sip:gw@surgery.example>;tag=sub' }));
  assert.is(got, 'NOTIFY');
});

test('a delegate that throws gets the request a 500, the core survives', () => {
  const h = harness();
  h.ua.delegate = {
    onRequest: () => {
      throw new Error('bug');
    },
  };
  assert.is(h.tx.receive(req('OPTIONS')).final!.status, 500);
});

test('sendRequest: out-of-dialog OPTIONS with Via/Contact from localFor; digest retry; 408 stand-in on timeout', async () => {
  const h = harness({ userAgent: 'pgw' });
  const server = createDigestServer({ realm: 'peer', clock: new FakeClock() });
  const p = h.ua.sendRequest({ method: 'OPTIONS', uri: 'sip:peer.example', destination: PEER, from: '<sip:gw@surgery.example>', to: '<sip:peer.example>', contact: true, credentials: { username: 'u', password: 'p' } });
  const first = h.tx.lastSent('OPTIONS');
  assert.match(first.request.headers.get('Via')!, /^SIP\/2\.0\/UDP 192\.0\.2\.10:5060;branch=z9hG4bK/);
  assert.is(first.request.headers.get('Contact'), '<sip:192.0.2.10:5060>');
  assert.is(first.request.headers.get('User-Agent'), 'pgw');
  assert.match(first.request.headers.get('From')!, /^<sip:gw@surgery\.example>;tag=.+/);
  first.respond(401, { headers: server.challenge() });
  const second = h.tx.lastSent('OPTIONS');
  assert.is(second.request.headers.get('Call-ID'), first.request.headers.get('Call-ID'));
  assert.is(server.verify(second.request, () => 'p').result, 'ok');
  second.respond(200);
  const res = await p;
  assert.is(res.response.status, 200);
  assert.is(res.request, second.request);
  const q = h.ua.sendRequest({ method: 'OPTIONS', uri: 'sip:peer.example', destination: PEER, from: '<sip:gw@x>', to: '<sip:peer.example>' });
  h.tx.lastSent('OPTIONS').timeout();
  assert.is((await q).response.status, 408);
  const t = h.ua.sendRequest({ method: 'OPTIONS', uri: 'sip:peer.example', destination: PEER, from: '<sip:gw@x>', to: '<sip:peer.example>' });
  h.tx.lastSent('OPTIONS').transportError();
  assert.is((await t).response.status, 503);
});

test('Via and Contact for IPv6 and TCP faces', () => {
  const tx = new FakeTransactions();
  const ua = new UserAgentCore({ transactions: tx, transport: { localFor: () => ({ protocol: 'tcp', address: '2001:db8::10', port: 5060 }) }, clock: new FakeClock() });
  assert.match(ua.via(PEER), /^SIP\/2\.0\/TCP \[2001:db8::10\]:5060;branch=z9hG4bK.+;rport$/);
  assert.is(ua.contact(PEER, '201'), '<sip:201@[2001:db8::10]:5060;transport=tcp>');
  assert.is(tx.user, ua, 'the core registered itself as the transaction user');
});

test('incoming INVITE: delegate gets the session and the request; CANCEL routed by transaction', () => {
  let got: { state: string; method: string } | undefined;
  const h = harness({}, { onInvite: (s, r) => (got = { state: s.state, method: r.method }) });
  const tx = h.tx.receive(req('INVITE'));
  assert.equal(got, { state: 'incoming', method: 'INVITE' });
  assert.equal(h.ua.counts(), { sessions: 1, dialogs: 0, serverInvites: 1 });
  h.tx.cancel(tx);
  assert.is(tx.final!.status, 487);
  assert.equal(h.ua.counts(), { sessions: 0, dialogs: 0, serverInvites: 0 });
  // A CANCEL for a transaction we do not know is ignored (the transaction layer answered it).
  h.ua.onCancel({ id: 'unknown' } as ServerTransaction, req('CANCEL'));
});

test('terminateAll ends calls in every state', async () => {
  const h = harness();
  const sessions: InviteSession[] = [];
  h.ua.delegate = { onInvite: (s) => sessions.push(s) };
  const inTx = h.tx.receive(req('INVITE'));
  const out = h.ua.invite({ target: 'sip:x@198.51.100.20', destination: PEER, from: '<sip:gw@x>', to: '<sip:x@y>', body: { contentType: 'application/sdp', body: Buffer.from('v=0') } });
  h.tx.lastSent('INVITE').respond(180, { toTag: 't' });
  h.ua.terminateAll();
  await flush();
  assert.is(inTx.final!.status, 480);
  assert.is(h.tx.sent('CANCEL').length, 1);
  assert.is(out.state, 'terminating');
  assert.is(sessions[0]!.state, 'terminated');
});

test.run();
