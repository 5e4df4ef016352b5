/** INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1) and CANCEL (§9.2): every state, timer and retransmission. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { createResponse, nameAddrTag } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import type { Endpoint } from '../../../../firmware/src/sip/transport/api.js';
import type { ServerTransaction, TransactionUser } from '../../../../firmware/src/sip/transaction/api.js';
import { INVITE_SERVER_TRANSITIONS } from '../../../../firmware/src/sip/transaction/invite-server-transaction.js';
import { StateMachine } from '../../../../firmware/src/util/state-machine.js';
import { createTransactionLayer } from '../../../../firmware/src/sip/transaction/transaction-layer.js';
import { TIMER_H, TIMER_I, TIMER_L } from '../../../../firmware/src/sip/transaction/timers.js';
import { FakeTransport, PEER, inboundRequest } from './fake-transport.js';

const TCP_PEER: Endpoint = { protocol: 'tcp', address: '192.0.2.50', port: 40000 };

function setup(tu: Partial<TransactionUser> = {}) {
  const clock = new FakeClock();
  const start = clock.now();
  const transport = new FakeTransport(clock);
  const layer = createTransactionLayer({ transport, clock, logger: silentLogger() });
  const requests: Array<{ request: SipRequest; tx: ServerTransaction | null }> = [];
  const log: string[] = [];
  layer.setUser({
    onRequest: (request, tx) => requests.push({ request, tx }),
    onAckTimeout: () => log.push('ack-timeout'),
    onTransportError: () => log.push('transport-error'),
    ...tu,
  });
  const times = (status: number) => transport.responses(status).map((s) => s.at - start);
  return { clock, start, transport, layer, requests, log, times };
}

const invite = (o: Parameters<typeof inboundRequest>[0] = {}) => inboundRequest({ method: 'INVITE', ...o });
const ack = (o: Parameters<typeof inboundRequest>[0] = {}) => inboundRequest({ method: 'ACK', toTag: 'uas1', ...o });

test('100 Trying goes out after 200 ms when the TU has not answered (§17.2.1)', () => {
  const s = setup();
  s.transport.deliver(invite());
  assert.is(s.requests.length, 1);
  const tx = s.requests[0]!.tx!;
  assert.is(tx.state, 'Proceeding');
  s.clock.advance(199);
  assert.is(s.transport.sent.length, 0);
  s.clock.advance(1);
  assert.equal(s.times(100), [200]);
  const trying = s.transport.responses(100)[0]!;
  assert.is(nameAddrTag(trying.message.headers.get('To')!), undefined, 'no To tag on 100');
  assert.equal(trying.destination, PEER, 'to received:rport');
});

test('no 100 Trying when the TU answers first', () => {
  const s = setup({
    onRequest: (req, tx) => tx?.respond(createResponse(req, 180, 'Ringing', { toTag: 'uas1' })),
  });
  s.transport.deliver(invite());
  s.clock.advance(1000);
  assert.equal(s.times(100), []);
  assert.equal(s.times(180), [0]);
});

test('Proceeding: a retransmitted INVITE gets the last provisional again and is not passed to the TU', () => {
  const s = setup();
  s.transport.deliver(invite());
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 180, 'Ringing', { toTag: 'uas1' }));
  s.clock.advance(500);
  s.transport.deliver(invite());
  assert.equal(s.times(180), [0, 500]);
  assert.is(s.requests.length, 1);
});

test('300-699 over UDP: Timer G retransmits (T1 doubling to T2) until Timer H; then the TU hears of it', () => {
  const s = setup();
  s.transport.deliver(invite());
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 486, 'Busy Here', { toTag: 'uas1' }));
  assert.is(tx.state, 'Completed');
  s.clock.advance(TIMER_H - 1);
  assert.equal(s.times(486), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(s.log, []);
  s.clock.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.equal(s.log, ['ack-timeout']);
  assert.is(s.clock.pending(), 0);
});

test('Completed: a retransmitted INVITE gets the final again; the ACK confirms; Timer I = T4', () => {
  const s = setup();
  s.transport.deliver(invite());
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 404, 'Not Found', { toTag: 'uas1' }));
  s.clock.advance(100);
  s.transport.deliver(invite());
  assert.equal(s.times(404), [0, 100]);
  s.clock.advance(500);
  s.transport.deliver(ack());
  assert.is(tx.state, 'Confirmed');
  assert.is(s.requests.length, 1, 'the ACK is absorbed, not passed to the TU');
  s.transport.deliver(ack());
  s.transport.deliver(invite());
  s.clock.advance(TIMER_I - 1);
  assert.equal(s.times(404), [0, 100, 500], 'Timer G fired once before the ACK, nothing after');
  assert.is(tx.state, 'Confirmed');
  s.clock.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.equal(s.layer.count(), { client: 0, server: 0 });
});

test('2xx: Accepted; INVITE retransmissions absorbed; the TU may resend 2xx; a matching ACK goes to the TU; Timer L', () => {
  const s = setup();
  s.transport.deliver(invite());
  const tx = s.requests[0]!.tx!;
  const ok = createResponse(tx.request, 200, 'OK', { toTag: 'uas1' });
  tx.respond(ok);
  assert.is(tx.state, 'Accepted');
  s.transport.deliver(invite());
  assert.equal(s.times(200), [0]);
  s.clock.advance(500);
  tx.respond(ok);
  assert.equal(s.times(200), [0, 500]);
  assert.throws(
    () => tx.respond(createResponse(tx.request, 486, 'Busy Here')),
    (e: unknown) => isPgwError(e, 'PGW_E_SIP_STATE'),
  );
  s.transport.deliver(ack());
  assert.is(s.requests.length, 2);
  assert.is(s.requests[1]!.request.method, 'ACK');
  assert.is(s.requests[1]!.tx, null);
  s.clock.advance(TIMER_L - 500 - 1);
  assert.is(tx.state, 'Accepted');
  s.clock.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.throws(() => tx.respond(ok), (e: unknown) => isPgwError(e, 'PGW_E_SIP_STATE'));
});

test('ACK for a 2xx (its own branch) reaches the TU with tx null', () => {
  const s = setup();
  s.transport.deliver(invite());
  s.requests[0]!.tx!.respond(createResponse(s.requests[0]!.request, 200, 'OK', { toTag: 'uas1' }));
  s.transport.deliver(ack({ branch: 'z9hG4bK-ack-for-2xx' }));
  assert.is(s.requests[1]!.request.method, 'ACK');
  assert.is(s.requests[1]!.tx, null);
});

test('TCP: no Timer G; the ACK ends it at once (Timer I = 0); Timer H still guards', () => {
  const s = setup();
  s.transport.deliver(invite({ transport: 'TCP' }), TCP_PEER, 'tcp-1');
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 480, 'Temporarily Unavailable', { toTag: 'uas1' }));
  s.clock.advance(10_000);
  assert.equal(s.times(480), [0]);
  assert.is(s.transport.responses(480)[0]!.options?.connectionId, 'tcp-1');
  s.transport.deliver(ack({ transport: 'TCP' }), TCP_PEER, 'tcp-1');
  assert.is(tx.state, 'Terminated');
  const s2 = setup();
  s2.transport.deliver(invite({ transport: 'TCP' }), TCP_PEER, 'tcp-1');
  const tx2 = s2.requests[0]!.tx!;
  tx2.respond(createResponse(tx2.request, 480, 'Temporarily Unavailable', { toTag: 'uas1' }));
  s2.clock.advance(TIMER_H);
  assert.equal(s2.log, ['ack-timeout']);
});

test('a transport error sending a response terminates the transaction and tells the TU', async () => {
  const s = setup();
  s.transport.failWith = () => new Error('EPIPE');
  s.transport.deliver(invite());
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 180, 'Ringing', { toTag: 'uas1' }));
  await new Promise((r) => setImmediate(r));
  assert.is(tx.state, 'Terminated');
  assert.equal(s.log, ['transport-error']);
});

test('CANCEL: 200 to the CANCEL, onCancel, then the layer answers the INVITE 487 with the same To tag', () => {
  const cancelled: string[] = [];
  const s = setup({ onCancel: (tx) => cancelled.push(tx.state) });
  s.transport.deliver(invite());
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 180, 'Ringing', { toTag: 'ring1' }));
  s.transport.deliver(inboundRequest({ method: 'CANCEL' }));
  assert.equal(cancelled, ['Proceeding']);
  assert.ok(tx.cancelled);
  const ok = s.transport.responses(200);
  assert.is(ok.length, 1);
  assert.match(ok[0]!.message.headers.get('CSeq')!, /CANCEL/);
  assert.is(nameAddrTag(ok[0]!.message.headers.get('To')!), 'ring1');
  const terminated = s.transport.responses(487);
  assert.is(terminated.length, 1);
  assert.match(terminated[0]!.message.headers.get('CSeq')!, /INVITE/);
  assert.is(nameAddrTag(terminated[0]!.message.headers.get('To')!), 'ring1');
  assert.is(tx.state, 'Completed');
  assert.is(s.requests.length, 1, 'the CANCEL is not passed to onRequest');
  // A retransmitted CANCEL gets the same 200 again.
  s.transport.deliver(inboundRequest({ method: 'CANCEL' }));
  assert.is(s.transport.responses(200).length, 2);
  assert.is(s.transport.responses(487).length, 1);
});

test('CANCEL before any response: the 200 and the 487 share a generated To tag', () => {
  const s = setup();
  s.transport.deliver(invite());
  s.transport.deliver(inboundRequest({ method: 'CANCEL' }));
  const t200 = nameAddrTag(s.transport.responses(200)[0]!.message.headers.get('To')!);
  const t487 = nameAddrTag(s.transport.responses(487)[0]!.message.headers.get('To')!);
  assert.ok(t200);
  assert.is(t200, t487);
});

test('CANCEL: a TU that answers in onCancel sends the only final response', () => {
  const s = setup({
    onCancel: (tx) => tx.respond(createResponse(tx.request, 200, 'OK', { toTag: 'won-the-race' })),
  });
  s.transport.deliver(invite());
  s.transport.deliver(inboundRequest({ method: 'CANCEL' }));
  assert.is(s.transport.responses(487).length, 0);
  assert.equal(
    s.transport.responses(200).map((r) => r.message.headers.get('CSeq')),
    ['1 CANCEL', '1 INVITE'],
  );
});

test('CANCEL after the final response: 200, no onCancel, no 487', () => {
  const cancelled: string[] = [];
  const s = setup({ onCancel: () => cancelled.push('x') });
  s.transport.deliver(invite());
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 486, 'Busy Here', { toTag: 'b1' }));
  s.transport.deliver(inboundRequest({ method: 'CANCEL' }));
  assert.equal(cancelled, []);
  assert.is(s.transport.responses(200).length, 1);
  assert.is(s.transport.responses(487).length, 0);
  assert.not.ok(tx.cancelled);
});

test('CANCEL matching no transaction: 481', () => {
  const s = setup();
  s.transport.deliver(inboundRequest({ method: 'CANCEL', branch: 'z9hG4bK-nothing' }));
  assert.is(s.transport.responses(481).length, 1);
  assert.is(s.requests.length, 0);
});

test('the transition table rejects illegal moves', () => {
  const fsm = new StateMachine('INVITE server', 'Proceeding', INVITE_SERVER_TRANSITIONS, silentLogger());
  fsm.transition('Completed');
  assert.throws(() => fsm.transition('Accepted'));
  fsm.transition('Confirmed');
  assert.throws(() => fsm.transition('Completed'));
});

test.run();
