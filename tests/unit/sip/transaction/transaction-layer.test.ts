/** Transaction layer plumbing: Via filling, matching (§17.1.3, §17.2.3, RFC 2543), stray responses, stateless sends. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { createResponse, topVia } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';
import type { ClientTransactionHandlers, ServerTransaction } from '../../../../firmware/src/sip/transaction/api.js';
import { createTransactionLayer } from '../../../../firmware/src/sip/transaction/transaction-layer.js';
import { FakeTransport, PEER, answer, inboundRequest, outboundRequest, parse } from './fake-transport.js';

const noop: ClientTransactionHandlers = { onResponse() {}, onTimeout() {}, onTransportError() {} };

function setup() {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  const layer = createTransactionLayer({ transport, clock, logger: silentLogger() });
  const requests: Array<{ request: SipRequest; tx: ServerTransaction | null }> = [];
  const stray: SipResponse[] = [];
  layer.setUser({ onRequest: (request, tx) => requests.push({ request, tx }), onStrayResponse: (r) => stray.push(r) });
  return { clock, transport, layer, requests, stray };
}

test('sendRequest adds a Via from localFor with a fresh magic-cookie branch and rport', () => {
  const s = setup();
  const a = s.layer.sendRequest(outboundRequest('OPTIONS'), { destination: PEER, handlers: noop });
  const b = s.layer.sendRequest(outboundRequest('OPTIONS'), { destination: PEER, handlers: noop });
  const va = topVia(a.request)!;
  assert.is(va.transport, 'UDP');
  assert.is(va.host, '192.0.2.1');
  assert.is(va.port, 5060);
  assert.match(va.params.get('branch')!, /^z9hG4bK.{6,}/);
  assert.ok(va.params.has('rport'));
  assert.is.not(va.params.get('branch'), topVia(b.request)!.params.get('branch'));
  const tls = s.layer.sendRequest(outboundRequest('OPTIONS'), { destination: { protocol: 'tls', address: '2001:db8::5', port: 5061 }, handlers: noop });
  assert.match(tls.request.headers.get('Via')!, /^SIP\/2\.0\/TLS 192\.0\.2\.1:5061;/);
});

test('sendRequest keeps a Via the TU set, adding only a missing branch', () => {
  const s = setup();
  const kept = s.layer.sendRequest(outboundRequest('OPTIONS', { withVia: 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKmine' }), { destination: PEER, handlers: noop });
  assert.is(kept.request.headers.get('Via'), 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKmine');
  const completed = s.layer.sendRequest(outboundRequest('MESSAGE', { withVia: 'SIP/2.0/UDP 203.0.113.1:5060;rport' }), { destination: PEER, handlers: noop });
  assert.match(completed.request.headers.get('Via')!, /^SIP\/2\.0\/UDP 203\.0\.113\.1:5060;rport;branch=z9hG4bK/);
});

test('sendRequest refuses ACK and a branch+method already in use', () => {
  const s = setup();
  assert.throws(() => s.layer.sendRequest(outboundRequest('ACK'), { destination: PEER, handlers: noop }), (e: unknown) => isPgwError(e, 'PGW_E_SIP_STATE'));
  const via = 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKsame';
  s.layer.sendRequest(outboundRequest('INVITE', { withVia: via }), { destination: PEER, handlers: noop });
  assert.throws(() => s.layer.sendRequest(outboundRequest('INVITE', { withVia: via }), { destination: PEER, handlers: noop }), (e: unknown) => isPgwError(e, 'PGW_E_SIP_STATE'));
  // A CANCEL shares the INVITE's branch (§9.1) and is a transaction of its own.
  const cancel = s.layer.sendRequest(outboundRequest('CANCEL', { withVia: via }), { destination: PEER, handlers: noop });
  assert.is(cancel.state, 'Trying');
  assert.equal(s.layer.count(), { client: 2, server: 0 });
});

test('client matching uses branch and CSeq method: the CANCEL 200 does not touch the INVITE', () => {
  const s = setup();
  const seen: string[] = [];
  const via = 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKpair';
  const inv = s.layer.sendRequest(outboundRequest('INVITE', { withVia: via }), { destination: PEER, handlers: { ...noop, onResponse: (r) => seen.push(`invite ${r.status}`) } });
  const can = s.layer.sendRequest(outboundRequest('CANCEL', { withVia: via }), { destination: PEER, handlers: { ...noop, onResponse: (r) => seen.push(`cancel ${r.status}`) } });
  s.transport.deliver(answer(can.request, 200));
  s.transport.deliver(answer(inv.request, 487));
  assert.equal(seen, ['cancel 200', 'invite 487']);
});

test('responses matching nothing go to onStrayResponse; responses with two Vias are discarded (§8.1.3.3)', () => {
  const s = setup();
  const tx = s.layer.sendRequest(outboundRequest('OPTIONS'), { destination: PEER, handlers: noop });
  const r = answer(tx.request, 200);
  r.headers.set('Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKunknown');
  s.transport.deliver(r);
  assert.is(s.stray.length, 1);
  const two = answer(tx.request, 200);
  two.headers.append('Via', 'SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKbcast');
  s.transport.deliver(two);
  assert.is(tx.state, 'Trying');
  assert.is(s.stray.length, 1);
});

test('server matching uses sent-by too: same branch from another host is a new transaction', () => {
  const s = setup();
  s.transport.deliver(inboundRequest({ method: 'OPTIONS', branch: 'z9hG4bKdup', callId: 'a' }));
  s.transport.deliver(inboundRequest({ method: 'OPTIONS', branch: 'z9hG4bKdup', callId: 'b', sentBy: '198.51.100.9:5060' }));
  assert.is(s.requests.length, 2);
  // Default port and explicit 5060 are the same sent-by.
  s.transport.deliver(inboundRequest({ method: 'OPTIONS', branch: 'z9hG4bKdup', callId: 'b', sentBy: '198.51.100.9' }));
  assert.is(s.requests.length, 2);
});

test('RFC 2543 peers (no magic cookie): retransmissions match, and the ACK matches by the To tag we sent', () => {
  const s = setup();
  const old = (method: string, toTag?: string) => inboundRequest({ method, branch: null, ...(toTag ? { toTag } : {}) });
  s.transport.deliver(old('INVITE'));
  s.transport.deliver(old('INVITE'));
  assert.is(s.requests.length, 1);
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 486, 'Busy Here', { toTag: 'old1' }));
  s.transport.deliver(old('ACK', 'wrong'));
  assert.is(tx.state, 'Completed');
  assert.is(s.requests.length, 2, 'an ACK with another To tag is not ours: passed up');
  s.transport.deliver(old('ACK', 'old1'));
  assert.is(tx.state, 'Confirmed');
  assert.is(s.requests.length, 2);
});

test('sendStateless fills the Via; sendResponseStateless routes by rport', async () => {
  const s = setup();
  const ack = outboundRequest('ACK');
  await s.layer.sendStateless(ack, PEER);
  assert.match(ack.headers.get('Via')!, /^SIP\/2\.0\/UDP 192\.0\.2\.1:5060;branch=z9hG4bK/);
  assert.equal(s.transport.sent[0]!.destination, PEER);
  const inbound = s.transport.deliver(parse(inboundRequest({ method: 'INVITE', sentBy: '10.0.0.9:5070' }).replace(';rport', ';rport=41000;received=203.0.113.50')));
  await s.layer.sendResponseStateless(createResponse(inbound.message as SipRequest, 200, 'OK', { toTag: 'x' }), inbound);
  assert.equal(s.transport.sent.at(-1)!.destination, { protocol: 'udp', address: '203.0.113.50', port: 41000 });
});

test('close() stops every timer and forgets every transaction', () => {
  const s = setup();
  s.layer.sendRequest(outboundRequest('INVITE'), { destination: PEER, handlers: noop });
  s.transport.deliver(inboundRequest({ method: 'INVITE', branch: 'z9hG4bKin' }));
  s.layer.close();
  assert.equal(s.layer.count(), { client: 0, server: 0 });
  const sent = s.transport.sent.length;
  s.clock.advance(100_000);
  assert.is(s.transport.sent.length, sent);
  s.transport.deliver(inboundRequest({ method: 'OPTIONS', branch: 'z9hG4bKafter' }));
  assert.is(s.requests.length, 1, 'no longer listening');
});

test.run();
