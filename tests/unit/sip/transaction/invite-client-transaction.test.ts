/** INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §7.2): every state, timer and retransmission count. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import type { SipResponse } from '../../../../firmware/src/sip/message/types.js';
import type { Endpoint } from '../../../../firmware/src/sip/transport/api.js';
import { createTransactionLayer } from '../../../../firmware/src/sip/transaction/transaction-layer.js';
import type { ClientTransactionHandlers } from '../../../../firmware/src/sip/transaction/api.js';
import { INVITE_CLIENT_TRANSITIONS } from '../../../../firmware/src/sip/transaction/invite-client-transaction.js';
import { StateMachine } from '../../../../firmware/src/util/state-machine.js';
import { TIMER_B, TIMER_D, TIMER_M } from '../../../../firmware/src/sip/transaction/timers.js';
import { FakeTransport, PEER, answer, connectRefused, outboundRequest } from './fake-transport.js';

function setup(destination: Endpoint = PEER) {
  const clock = new FakeClock();
  const start = clock.now();
  const transport = new FakeTransport(clock);
  const layer = createTransactionLayer({ transport, clock, logger: silentLogger() });
  const events: Array<{ kind: string; status?: number; at: number }> = [];
  const stray: SipResponse[] = [];
  layer.setUser({ onRequest: () => undefined, onStrayResponse: (r) => stray.push(r) });
  const handlers: ClientTransactionHandlers = {
    onResponse: (r) => events.push({ kind: 'response', status: r.status, at: clock.now() - start }),
    onTimeout: () => events.push({ kind: 'timeout', at: clock.now() - start }),
    onTransportError: () => events.push({ kind: 'transport-error', at: clock.now() - start }),
  };
  const tx = layer.sendRequest(outboundRequest('INVITE', { route: '<sip:proxy.practice.test;lr>' }), { destination, handlers });
  const sendTimes = () => transport.requests('INVITE').map((s) => s.at - start);
  return { clock, start, transport, layer, tx, events, stray, sendTimes };
}

/** Let rejected send promises settle. */
const settle = () => new Promise((r) => setImmediate(r));

test('UDP, no answer: retransmits at 0.5, 1, 2, 4, 8, 16 s intervals and times out at 32 s (Timer B)', async () => {
  const s = setup();
  assert.is(s.tx.state, 'Calling');
  s.clock.advance(TIMER_B - 1);
  assert.equal(s.sendTimes(), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.equal(s.events, []);
  s.clock.advance(1);
  assert.equal(s.events, [{ kind: 'timeout', at: 32_000 }]);
  assert.is(s.tx.state, 'Terminated');
  assert.equal(s.layer.count(), { client: 0, server: 0 });
  s.clock.advance(100_000);
  assert.is(s.sendTimes().length, 7, 'nothing after termination');
  assert.is(s.clock.pending(), 0, 'no timer left behind');
});

test('Calling → Proceeding on 1xx: retransmissions stop and Timer B no longer ends it', () => {
  const s = setup();
  s.clock.advance(700);
  s.transport.deliver(answer(s.tx.request, 100));
  assert.is(s.tx.state, 'Proceeding');
  s.clock.advance(200_000);
  assert.equal(s.sendTimes(), [0, 500]);
  assert.is(s.tx.state, 'Proceeding');
  assert.equal(s.events, [{ kind: 'response', status: 100, at: 700 }]);
  s.transport.deliver(answer(s.tx.request, 180));
  assert.is(s.events.length, 2, 'every provisional goes to the TU');
});

test('300-699: Completed, ACK built per §17.1.1.3 and sent to the same destination, Timer D = 32 s', () => {
  const s = setup();
  s.transport.deliver(answer(s.tx.request, 180));
  const inviteVia = s.tx.request.headers.get('Via')!;
  s.clock.advance(1000);
  s.transport.deliver(answer(s.tx.request, 486, 'busy7'));
  assert.is(s.tx.state, 'Completed');
  assert.equal(s.events.map((e) => e.status), [180, 486]);
  const acks = s.transport.requests('ACK');
  assert.is(acks.length, 1);
  const ack = acks[0]!;
  assert.equal(ack.destination, PEER);
  assert.is(ack.message.uri, s.tx.request.uri);
  assert.equal(ack.message.headers.getAll('Via'), [inviteVia]);
  assert.match(ack.message.headers.get('To')!, /;tag=busy7$/);
  assert.is(ack.message.headers.get('From'), s.tx.request.headers.get('From'));
  assert.is(ack.message.headers.get('Call-ID'), s.tx.request.headers.get('Call-ID'));
  assert.is(ack.message.headers.get('CSeq'), '7 ACK');
  assert.equal(ack.message.headers.getAll('Route'), ['<sip:proxy.practice.test;lr>']);
  assert.is(ack.message.body.length, 0);
  // A retransmitted 486 means our ACK was lost: ACK again, the TU is not told twice.
  s.clock.advance(5000);
  s.transport.deliver(answer(s.tx.request, 486, 'busy7'));
  assert.is(s.transport.requests('ACK').length, 2);
  assert.is(s.events.length, 2);
  s.clock.advance(TIMER_D - 5000 - 1);
  assert.is(s.tx.state, 'Completed');
  s.clock.advance(1);
  assert.is(s.tx.state, 'Terminated');
  assert.is(s.clock.pending(), 0);
});

test('2xx: Accepted (RFC 6026); every 2xx retransmission reaches the TU until Timer M; then stray', () => {
  const s = setup();
  s.transport.deliver(answer(s.tx.request, 200));
  assert.is(s.tx.state, 'Accepted');
  assert.is(s.transport.requests('ACK').length, 0, 'the TU ACKs a 2xx, not the transaction');
  s.clock.advance(500);
  s.transport.deliver(answer(s.tx.request, 200));
  s.transport.deliver(answer(s.tx.request, 200, 'other-fork'));
  s.transport.deliver(answer(s.tx.request, 180));
  assert.equal(s.events.map((e) => e.status), [200, 200, 200]);
  s.clock.advance(TIMER_M - 500 - 1);
  assert.is(s.tx.state, 'Accepted');
  s.clock.advance(1);
  assert.is(s.tx.state, 'Terminated');
  s.transport.deliver(answer(s.tx.request, 200));
  assert.is(s.stray.length, 1);
  assert.equal(s.sendTimes(), [0], 'no retransmission after the 2xx');
});

test('2xx straight from Proceeding', () => {
  const s = setup();
  s.transport.deliver(answer(s.tx.request, 183));
  s.transport.deliver(answer(s.tx.request, 200));
  assert.is(s.tx.state, 'Accepted');
});

test('TCP: no retransmissions, Timer B still times out at 32 s', () => {
  const s = setup({ protocol: 'tcp', address: '192.0.2.50', port: 5060 });
  s.clock.advance(TIMER_B);
  assert.equal(s.sendTimes(), [0]);
  assert.equal(s.events, [{ kind: 'timeout', at: 32_000 }]);
});

test('TCP: a non-2xx final ends the transaction at once (Timer D = 0)', () => {
  const s = setup({ protocol: 'tcp', address: '192.0.2.50', port: 5060 });
  s.transport.deliver(answer(s.tx.request, 603));
  assert.is(s.transport.requests('ACK').length, 1);
  assert.is(s.tx.state, 'Terminated');
  assert.equal(s.layer.count(), { client: 0, server: 0 });
});

test('a transport error on the first send: TU told, transaction terminated', async () => {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  transport.failWith = () => new Error('EHOSTUNREACH');
  const layer = createTransactionLayer({ transport, clock, logger: silentLogger() });
  const seen: string[] = [];
  const tx = layer.sendRequest(outboundRequest('INVITE'), {
    destination: PEER,
    handlers: { onResponse: () => seen.push('r'), onTimeout: () => seen.push('t'), onTransportError: () => seen.push('e') },
  });
  await settle();
  assert.equal(seen, ['e']);
  assert.is(tx.state, 'Terminated');
  clock.advance(64_000);
  assert.equal(seen, ['e']);
  assert.is(transport.requests().length, 1);
});

test('a transport error on a retransmission also ends it', async () => {
  const s = setup();
  s.transport.failWith = () => new Error('ENETUNREACH');
  s.clock.advance(500);
  await settle();
  assert.equal(s.events.map((e) => e.kind), ['transport-error']);
  assert.is(s.tx.state, 'Terminated');
});

test('§18.1.1: moved to TCP by size, the Via says TCP and nothing is retransmitted', () => {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  transport.sizeRuleProtocol = 'tcp';
  const layer = createTransactionLayer({ transport, clock, logger: silentLogger() });
  const tx = layer.sendRequest(outboundRequest('INVITE'), { destination: PEER, handlers: { onResponse() {}, onTimeout() {}, onTransportError() {} } });
  assert.equal(tx.destination, { ...PEER, protocol: 'tcp' });
  assert.match(tx.request.headers.get('Via')!, /^SIP\/2\.0\/TCP 192\.0\.2\.1:5070;branch=z9hG4bK/);
  assert.equal(transport.sent[0]!.options, { sizeRule: false });
  clock.advance(10_000);
  assert.is(transport.requests('INVITE').length, 1);
});

test('§18.1.1: TCP refused → back to UDP with the UDP Via, retransmitting on Timer A', async () => {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  transport.sizeRuleProtocol = 'tcp';
  transport.failWith = (_m, d) => (d.protocol === 'tcp' ? connectRefused() : undefined);
  const layer = createTransactionLayer({ transport, clock, logger: silentLogger() });
  const errors: Error[] = [];
  const tx = layer.sendRequest(outboundRequest('INVITE'), { destination: PEER, handlers: { onResponse() {}, onTimeout() {}, onTransportError: (e) => errors.push(e) } });
  const branch = /branch=([^;]+)/.exec(tx.request.headers.get('Via')!)![1];
  await settle();
  assert.equal(errors, []);
  assert.equal(tx.destination, PEER);
  assert.match(tx.request.headers.get('Via')!, /^SIP\/2\.0\/UDP 192\.0\.2\.1:5060;branch=/);
  assert.ok(tx.request.headers.get('Via')!.includes(`branch=${branch}`), 'same branch');
  assert.equal(transport.requests('INVITE').map((s) => s.destination.protocol), ['tcp', 'udp']);
  clock.advance(500);
  assert.is(transport.requests('INVITE').length, 3);
  transport.deliver(answer(tx.request, 180));
  assert.is(tx.state, 'Proceeding');
});

test('the transition table rejects illegal moves', () => {
  const fsm = new StateMachine('INVITE client', 'Calling', INVITE_CLIENT_TRANSITIONS, silentLogger());
  fsm.transition('Proceeding');
  assert.throws(() => fsm.transition('Calling'), /illegal transition Proceeding -> Calling/);
  fsm.transition('Accepted');
  assert.throws(() => fsm.transition('Completed'));
  fsm.transition('Terminated');
  assert.not.ok(fsm.can('Calling'));
});

test.run();
