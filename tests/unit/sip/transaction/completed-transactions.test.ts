/**
 * Completed transactions in compact form (issue 2, memory under a REGISTER
 * storm): the layer's records still do what RFC 3261 §17 / RFC 6026 ask of the
 * states they stand for (same bytes resent to the same place, ACK handling,
 * CANCEL, merged requests), end exactly on their timers with one clock timer
 * per kind, let go of the request, the response objects and the TU's
 * handlers, and stay bounded.
 */
import { Writable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { createLogger, silentLogger } from '../../../../firmware/src/util/logger.js';
import type { Logger } from '../../../../firmware/src/util/logger.js';
import { createResponse, serializeMessage } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import type { ServerTransaction, TransactionUser } from '../../../../firmware/src/sip/transaction/api.js';
import { createTransactionLayer } from '../../../../firmware/src/sip/transaction/transaction-layer.js';
import { TIMER_D, TIMER_I, TIMER_J, TIMER_K, TIMER_L } from '../../../../firmware/src/sip/transaction/timers.js';
import { FakeTransport, PEER, answer, inboundRequest, outboundRequest } from './fake-transport.js';
import { collected } from './gc.js';

const PHONE = { protocol: 'udp' as const, address: '198.51.100.7', port: 40123 };

function setup(opts: { tu?: Partial<TransactionUser>; maxCompletedNonInvite?: number; logger?: Logger } = {}) {
  const clock = new FakeClock();
  const start = clock.now();
  const transport = new FakeTransport(clock);
  const layer = createTransactionLayer({
    transport,
    clock,
    logger: opts.logger ?? silentLogger(),
    ...(opts.maxCompletedNonInvite === undefined ? {} : { maxCompletedNonInvite: opts.maxCompletedNonInvite }),
  });
  const seen: string[] = [];
  layer.setUser({ onRequest: (request) => seen.push(request.method), ...opts.tu });
  const at = () => clock.now() - start;
  return { clock, start, transport, layer, seen, at };
}

/** A REGISTER as a phone behind NAT sends it (rport asked for; the transport stamps nothing here, so the Via says where to answer). */
const register = (o: Parameters<typeof inboundRequest>[0] = {}) =>
  inboundRequest({ method: 'REGISTER', branch: 'z9hG4bK-reg1', sentBy: '198.51.100.7:40123', callId: 'reg-1@198.51.100.7', ...o });

/** A TU that answers every REGISTER with a 401 carrying a challenge and keeps nothing, but a WeakRef to what it was given. */
function challengingTu(refs: { request?: WeakRef<object>; tx?: WeakRef<object>; response?: WeakRef<object> }): Partial<TransactionUser> {
  return {
    onRequest: (request, tx) => {
      if (!tx) return;
      refs.request = new WeakRef(request);
      refs.tx = new WeakRef(tx);
      const response = createResponse(request, 401, 'Unauthorized', {
        toTag: 'reg-tag-1',
        headers: [['WWW-Authenticate', 'Digest realm="practice.test", nonce="n1", algorithm=SHA-256, qop="auth"']],
      });
      refs.response = new WeakRef(response);
      tx.respond(response);
    },
  };
}

test('non-INVITE Completed: a retransmission gets the same bytes again, to the same place, from the same local endpoint', () => {
  const s = setup({ tu: challengingTu({}) });
  s.transport.deliver(register(), PHONE);
  assert.is(s.transport.sent.length, 1);
  s.clock.advance(700);
  s.transport.deliver(register(), PHONE);
  s.clock.advance(1300);
  s.transport.deliver(register(), PHONE);
  const [first, again, third] = s.transport.sent;
  assert.is(s.transport.sent.length, 3);
  const bytes = serializeMessage(first!.message);
  assert.ok(serializeMessage(again!.message).equals(bytes), 'same bytes');
  assert.ok(serializeMessage(third!.message).equals(bytes), 'same bytes');
  assert.equal(again!.destination, first!.destination);
  assert.equal(again!.destination, { protocol: 'udp', address: '198.51.100.7', port: 40123 });
  assert.equal(again!.options, first!.options, 'from the socket the request came in on (RFC 3581 §4)');
  assert.equal([again!.at - first!.at, third!.at - first!.at], [700, 2000]);
});

test('non-INVITE Completed: the request, the response object and the transaction are let go; the record still answers', async () => {
  const refs: { request?: WeakRef<object>; tx?: WeakRef<object>; response?: WeakRef<object> } = {};
  const s = setup({ tu: challengingTu(refs) });
  s.transport.deliver(register(), PHONE);
  // The FakeTransport keeps what it was given to send; a real one does not.
  s.transport.clear();
  assert.ok(await collected(refs.request!), 'the parsed request');
  assert.ok(await collected(refs.tx!), 'the transaction object');
  assert.ok(await collected(refs.response!), 'the response object');
  assert.equal(s.layer.count(), { client: 0, server: 1 });
  s.transport.deliver(register(), PHONE);
  assert.is(s.transport.responses(401).length, 1, 'the retransmission is still answered');
  assert.match(s.transport.sent[0]!.text, /WWW-Authenticate: Digest realm="practice.test", nonce="n1"/);
  assert.is(s.seen.length, 0, 'and not passed to the TU');
});

test('the check above can fail: before its final response the layer holds the request', async () => {
  let ref: WeakRef<object> | undefined;
  let held: ServerTransaction | undefined;
  const s = setup({
    tu: {
      onRequest: (request, tx) => {
        ref = new WeakRef(request);
        held = tx ?? undefined;
      },
    },
  });
  s.transport.deliver(register(), PHONE);
  const tx = held!;
  held = undefined;
  assert.not.ok(await collected(ref!), 'Trying: the layer holds the transaction and its request');
  tx.respond(createResponse(tx.request, 200, 'OK', { toTag: 'x' }));
  assert.is(tx.state, 'Completed');
});

test('Timer J: each record ends exactly 64*T1 after its final response, one clock timer for all of them', () => {
  const s = setup({ tu: challengingTu({}) });
  for (let i = 0; i < 50; i++) {
    s.transport.deliver(register({ branch: `z9hG4bK-j${i}`, callId: `j${i}` }), PHONE);
    s.clock.advance(10);
  }
  assert.is(s.transport.responses(401).length, 50);
  assert.is(s.layer.count().server, 50);
  assert.is(s.clock.pending(), 1, 'one timer, not one per transaction');
  // The first was answered at 0: at J - 1 it still absorbs; at J it is gone.
  s.clock.advance(TIMER_J - 500 - 1);
  s.transport.deliver(register({ branch: 'z9hG4bK-j0', callId: 'j0' }), PHONE);
  assert.is(s.transport.responses(401).length, 51, 'resent at J - 1');
  assert.is(s.seen.length, 0);
  s.clock.advance(1);
  assert.is(s.layer.count().server, 49);
  s.clock.advance(10 * 48);
  assert.is(s.layer.count().server, 1, 'the others end 10 ms apart, as they were answered');
  s.clock.advance(10);
  assert.is(s.layer.count().server, 0);
  assert.is(s.clock.pending(), 0);
  // A retransmission now is a new request (§17.2.2: the transaction is gone).
  s.transport.deliver(register({ branch: 'z9hG4bK-j0', callId: 'j0' }), PHONE);
  assert.is(s.layer.count().server, 1);
});

test('the transaction the TU still holds reads Completed until Timer J, then Terminated; it refuses further responses', () => {
  let held: ServerTransaction | undefined;
  const s = setup({ tu: { onRequest: (_r, tx) => (held = tx ?? undefined) } });
  s.transport.deliver(register(), PHONE);
  const tx = held!;
  tx.respond(createResponse(tx.request, 200, 'OK', { toTag: 'x' }));
  s.clock.advance(TIMER_J - 1);
  assert.is(tx.state, 'Completed');
  assert.throws(() => tx.respond(createResponse(tx.request, 500)));
  s.clock.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.throws(() => tx.respond(createResponse(tx.request, 500)));
});

test('merged requests (§8.2.2.2) are still detected against a completed transaction, until Timer J', () => {
  const s = setup({ tu: challengingTu({}) });
  s.transport.deliver(register(), PHONE);
  s.clock.advance(1000);
  // Same From tag, Call-ID and CSeq, no To tag, another branch: the same request by another path.
  s.transport.deliver(register({ branch: 'z9hG4bK-other-path', sentBy: '203.0.113.9:5060' }), { protocol: 'udp', address: '203.0.113.9', port: 5060 });
  assert.is(s.transport.responses(482).length, 1);
  assert.is(s.seen.length, 0);
  s.clock.advance(TIMER_J);
  s.transport.deliver(register({ branch: 'z9hG4bK-third-path', sentBy: '203.0.113.9:5060' }), { protocol: 'udp', address: '203.0.113.9', port: 5060 });
  assert.is(s.transport.responses(482).length, 1, 'not merged once the first has ended');
});

test('CANCEL for a completed non-INVITE: 200 with the To tag of the final response (§9.2), nothing else', () => {
  const s = setup({ tu: challengingTu({}) });
  s.transport.deliver(register(), PHONE);
  s.transport.deliver(inboundRequest({ method: 'CANCEL', branch: 'z9hG4bK-reg1', sentBy: '198.51.100.7:40123', callId: 'reg-1@198.51.100.7', cseq: 1 }), PHONE);
  const ok = s.transport.responses(200);
  assert.is(ok.length, 1);
  assert.match(ok[0]!.message.headers.get('To')!, /;tag=reg-tag-1$/);
  assert.is(ok[0]!.message.headers.get('CSeq'), '1 CANCEL');
  assert.is(s.transport.responses(487).length, 0);
});

test('a resend the transport refuses ends the record (§17.2.4): the next retransmission is a new request', async () => {
  const s = setup({ tu: challengingTu({}) });
  s.transport.deliver(register(), PHONE);
  s.transport.failWith = () => new Error('ICMP port unreachable');
  s.transport.deliver(register(), PHONE);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(s.layer.count(), { client: 0, server: 0 });
  s.transport.failWith = undefined;
  s.transport.deliver(register(), PHONE);
  assert.is(s.transport.responses(401).length, 3, 'answered afresh by the TU');
});

test('a failed first send of the final response still reaches the TU, and ends the record', async () => {
  const errors: string[] = [];
  const s = setup({ tu: { ...challengingTu({}), onTransportError: (_tx, err) => errors.push(err.message) } });
  s.transport.failWith = () => new Error('EHOSTUNREACH');
  s.transport.deliver(register(), PHONE);
  assert.is(s.layer.count().server, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(errors, ['EHOSTUNREACH']);
  assert.equal(s.layer.count(), { client: 0, server: 0 });
  assert.is(s.clock.pending(), 0);
});

// ---- INVITE server: Accepted (RFC 6026) and Confirmed -----------------------

const invite = (o: Parameters<typeof inboundRequest>[0] = {}) => inboundRequest({ method: 'INVITE', ...o });

test('INVITE Accepted: retransmissions absorbed and ACKs passed up from the record, with the INVITE let go; the TU can still resend its 2xx', async () => {
  const refs: { request?: WeakRef<object> } = {};
  let held: ServerTransaction | undefined;
  const acks: string[] = [];
  let invites = 0;
  const s = setup({
    tu: {
      onRequest: (request, tx, inbound) => {
        if (request.method === 'ACK') {
          acks.push(`${inbound.source.address}`);
          return;
        }
        invites++;
        refs.request = new WeakRef(request);
        tx!.respond(createResponse(request, 200, 'OK', { toTag: 'uas1' }));
        held = tx!;
      },
    },
  });
  s.transport.deliver(invite());
  let tx: ServerTransaction | undefined = held!;
  held = undefined;
  const ok = createResponse(tx.request, 200, 'OK', { toTag: 'uas1' });
  s.clock.advance(0);
  s.transport.clear();
  // The TU keeps its ServerTransaction (it resends the 2xx, §13.3.1.4): the layer does not.
  s.clock.advance(500);
  tx.respond(ok);
  assert.is(s.transport.responses(200).length, 1, "the TU's 2xx retransmission goes out");
  assert.is(tx.state, 'Accepted');
  s.transport.deliver(invite());
  assert.is(s.transport.sent.length, 1, 'INVITE retransmission absorbed');
  s.transport.deliver(inboundRequest({ method: 'ACK', toTag: 'uas1' }));
  assert.equal(acks, ['192.0.2.50'], 'the ACK matching the transaction goes to the TU (RFC 6026 §7.1)');
  s.transport.deliver(inboundRequest({ method: 'CANCEL', cseq: 1 }));
  assert.match(s.transport.responses(200)[1]!.message.headers.get('To')!, /;tag=uas1$/, 'CANCEL: 200 with our To tag');
  assert.is(s.transport.responses(487).length, 0, 'and no 487 after a 2xx');
  // The TU lets go of its ServerTransaction (its dialog is confirmed): the INVITE goes with it,
  // while the layer's record goes on absorbing until Timer L.
  tx = undefined;
  s.transport.clear();
  assert.ok(await collected(refs.request!), 'the INVITE');
  s.transport.deliver(invite());
  s.transport.deliver(inboundRequest({ method: 'ACK', toTag: 'uas1' }));
  assert.is(s.transport.sent.length, 0, 'still absorbed');
  assert.equal(acks.length, 2, 'ACKs still go up');
  s.clock.advance(TIMER_L - 500 - 1);
  assert.is(s.layer.count().server, 2, 'the INVITE and the CANCEL');
  s.clock.advance(1);
  assert.is(s.layer.count().server, 1, 'the INVITE ended at Timer L; the CANCEL (Timer J from 500 ms) not yet');
  assert.is(invites, 1);
  s.transport.deliver(invite());
  assert.is(invites, 2, 'after Timer L the same INVITE is a new one');
});

test('INVITE Confirmed: the ACK is absorbed by the record until Timer I; the INVITE and the 486 are let go', async () => {
  const refs: { request?: WeakRef<object>; response?: WeakRef<object> } = {};
  const s = setup({
    tu: {
      onRequest: (request, tx) => {
        if (!tx) return;
        refs.request = new WeakRef(request);
        const busy = createResponse(request, 486, 'Busy Here', { toTag: 'uas1' });
        refs.response = new WeakRef(busy);
        tx.respond(busy);
      },
    },
  });
  s.transport.deliver(invite());
  s.clock.advance(100);
  s.transport.deliver(inboundRequest({ method: 'ACK', toTag: 'uas1' }));
  s.clock.advance(0);
  s.transport.clear();
  assert.ok(await collected(refs.request!));
  assert.ok(await collected(refs.response!));
  s.transport.deliver(inboundRequest({ method: 'ACK', toTag: 'uas1' }));
  s.transport.deliver(invite());
  assert.is(s.transport.sent.length, 0, 'both absorbed in Confirmed (§17.2.1)');
  assert.equal(s.seen, [], 'the TU saw neither');
  s.clock.advance(TIMER_I - 1);
  assert.is(s.layer.count().server, 1);
  s.clock.advance(1);
  assert.is(s.layer.count().server, 0);
});

test('RFC 2543 ACK (no magic cookie) matches a Confirmed record by its To tag and is absorbed until Timer I', () => {
  const s = setup({ tu: { onRequest: (request, tx) => (request.method === 'ACK' ? undefined : tx?.respond(createResponse(request, 404, 'Not Found', { toTag: 'uas9' }))) } });
  const acks: string[] = [];
  s.transport.deliver(invite({ branch: null }));
  s.transport.deliver(inboundRequest({ method: 'ACK', branch: null, toTag: 'uas9' }));
  s.layer.setUser({ onRequest: (r) => acks.push(r.method) });
  s.clock.advance(TIMER_I - 1);
  assert.is(s.transport.responses(404).length, 1, 'no Timer G retransmission: the first ACK matched');
  s.transport.deliver(inboundRequest({ method: 'ACK', branch: null, toTag: 'uas9' }));
  assert.equal(acks, [], 'absorbed, not passed up as an ACK for a 2xx');
  assert.is(s.layer.count().server, 1);
  s.clock.advance(1);
  s.transport.deliver(inboundRequest({ method: 'ACK', branch: null, toTag: 'uas9' }));
  assert.equal(acks, ['ACK'], 'after Timer I it matches nothing');
});

// ---- client transactions: Completed (Timers K and D) -------------------------

test('non-INVITE client Completed: retransmitted finals absorbed until Timer K; the TU handlers are let go', async () => {
  const s = setup();
  const events: number[] = [];
  let handlers: object | undefined = {
    onResponse: (r: { status: number }) => events.push(r.status),
    onTimeout: () => events.push(-1),
    onTransportError: () => events.push(-2),
  };
  const handlersRef = new WeakRef(handlers);
  let request: SipRequest | undefined = outboundRequest('OPTIONS');
  const requestRef = new WeakRef(request);
  s.layer.sendRequest(request, { destination: PEER, handlers: handlers as Parameters<typeof s.layer.sendRequest>[1]['handlers'] });
  handlers = undefined;
  const final = answer(request, 200);
  request = undefined;
  s.clock.advance(300);
  s.transport.deliver(final);
  // FakeClock keeps cancelled timers (Timer E, F) until it next moves; SystemClock's clearTimeout lets go at once.
  s.clock.advance(0);
  s.transport.clear();
  assert.ok(await collected(handlersRef), "the TU's handlers");
  assert.ok(await collected(requestRef), 'the request');
  s.transport.deliver(final);
  s.clock.advance(TIMER_K - 1);
  s.transport.deliver(final);
  assert.equal(events, [200], 'the TU heard the final once');
  assert.is(s.layer.count().client, 1);
  s.clock.advance(1);
  assert.is(s.layer.count().client, 0);
  s.transport.deliver(final);
  assert.equal(events, [200]);
});

test('INVITE client Completed: each retransmitted 300-699 gets the same ACK bytes, to the same place, until Timer D', async () => {
  const s = setup();
  const events: number[] = [];
  let request: SipRequest | undefined = outboundRequest('INVITE');
  const requestRef = new WeakRef(request);
  // The ClientTransaction returned is not kept (it would keep the INVITE).
  s.layer.sendRequest(request, {
    destination: PEER,
    handlers: { onResponse: (r) => events.push(r.status), onTimeout: () => undefined, onTransportError: () => undefined },
  });
  const busy = answer(request, 486);
  request = undefined;
  s.clock.advance(100);
  s.transport.deliver(busy);
  const first = s.transport.requests('ACK')[0]!;
  const firstBytes = serializeMessage(first.message);
  s.clock.advance(0);
  s.transport.clear();
  assert.ok(await collected(requestRef), 'the INVITE is let go');
  s.clock.advance(1000);
  s.transport.deliver(busy);
  const again = s.transport.requests('ACK');
  assert.is(again.length, 1);
  assert.ok(serializeMessage(again[0]!.message).equals(firstBytes), 'same ACK bytes');
  assert.equal(again[0]!.destination, first.destination);
  assert.equal(again[0]!.options, first.options);
  assert.equal(events, [486], 'the TU heard the final once');
  s.clock.advance(TIMER_D - 1000 - 1);
  s.transport.deliver(busy);
  assert.is(s.transport.requests('ACK').length, 2, 'still at D - 1');
  assert.is(s.layer.count().client, 1);
  s.clock.advance(1);
  assert.is(s.layer.count().client, 0);
  s.transport.deliver(busy);
  assert.is(s.transport.requests('ACK').length, 2, 'nothing after Timer D');
});

// ---- the bound ------------------------------------------------------------

test('the bound on completed non-INVITE records: oldest forgotten first, one warning a minute, INVITE records untouched', () => {
  const lines: Array<{ msg: string; evicted?: number }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as { msg: string; evicted?: number });
      done();
    },
  });
  const s = setup({ tu: challengingTu({}), maxCompletedNonInvite: 3, logger: createLogger({ level: 'warn', destination: sink }) });
  // An INVITE in Accepted: a record too, but never evicted.
  s.layer.setUser({
    onRequest: (request, tx) => tx?.respond(createResponse(request, request.method === 'INVITE' ? 200 : 401, undefined, { toTag: 't' })),
  });
  s.transport.deliver(invite());
  for (let i = 0; i < 5; i++) s.transport.deliver(register({ branch: `z9hG4bK-b${i}`, callId: `b${i}` }), PHONE);
  assert.is(s.layer.count().server, 4, 'three REGISTER records and the INVITE');
  const warnings = lines.filter((l) => /too many completed/.test(l.msg));
  assert.is(warnings.length, 1, 'one warning, not one per eviction');
  assert.is(warnings[0]!.evicted, 1);
  // b0 and b1 were evicted: their retransmissions are new requests; b2 is still absorbed.
  const seen: string[] = [];
  s.layer.setUser({ onRequest: (r, tx) => (seen.push(r.headers.get('Call-ID')!), tx?.respond(createResponse(r, 401, undefined, { toTag: 't' }))) });
  s.transport.deliver(register({ branch: 'z9hG4bK-b2', callId: 'b2' }), PHONE);
  s.transport.deliver(register({ branch: 'z9hG4bK-b0', callId: 'b0' }), PHONE);
  s.transport.deliver(invite());
  assert.equal(seen, ['b0'], 'b2 absorbed, b0 new, the INVITE retransmission absorbed');
  s.clock.advance(61_000);
  assert.is(s.layer.count().server, 0, 'all ended by their timers meanwhile');
  for (let i = 5; i < 9; i++) s.transport.deliver(register({ branch: `z9hG4bK-b${i}`, callId: `b${i}` }), PHONE);
  const later = lines.filter((l) => /too many completed/.test(l.msg));
  assert.is(later.length, 2, 'a minute on, another warning');
  assert.is(later[1]!.evicted, 3, 'counting those held back (b1, b2) and this one (b5)');
});

test('close() ends every record and its timers', () => {
  const s = setup({ tu: challengingTu({}) });
  s.transport.deliver(register(), PHONE);
  s.transport.deliver(invite());
  assert.ok(s.clock.pending() > 0);
  s.layer.close();
  s.clock.advance(0);
  assert.equal(s.layer.count(), { client: 0, server: 0 });
  assert.is(s.clock.pending(), 0);
});

test.run();
