/** Non-INVITE server transaction (RFC 3261 §17.2.2) and merged-request detection (§8.2.2.2). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { createResponse } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import type { ServerTransaction, TransactionUser } from '../../../../firmware/src/sip/transaction/api.js';
import { NON_INVITE_SERVER_TRANSITIONS } from '../../../../firmware/src/sip/transaction/non-invite-server-transaction.js';
import { StateMachine } from '../../../../firmware/src/util/state-machine.js';
import { createTransactionLayer } from '../../../../firmware/src/sip/transaction/transaction-layer.js';
import { TIMER_J } from '../../../../firmware/src/sip/transaction/timers.js';
import { FakeTransport, inboundRequest } from './fake-transport.js';

function setup(tu: Partial<TransactionUser> | null = {}) {
  const clock = new FakeClock();
  const start = clock.now();
  const transport = new FakeTransport(clock);
  const layer = createTransactionLayer({ transport, clock, logger: silentLogger() });
  const requests: Array<{ request: SipRequest; tx: ServerTransaction | null }> = [];
  if (tu) layer.setUser({ onRequest: (request, tx) => requests.push({ request, tx }), ...tu });
  const times = (status: number) => transport.responses(status).map((s) => s.at - start);
  return { clock, transport, layer, requests, times };
}

const register = (o: Parameters<typeof inboundRequest>[0] = {}) => inboundRequest({ method: 'REGISTER', branch: 'z9hG4bK-reg1', ...o });

test('Trying: retransmissions absorbed silently; the TU sees the request once', () => {
  const s = setup();
  s.transport.deliver(register());
  s.transport.deliver(register());
  assert.is(s.requests.length, 1);
  assert.is(s.transport.sent.length, 0);
  assert.is(s.requests[0]!.tx!.state, 'Trying');
});

test('Proceeding: a retransmission gets the last provisional', () => {
  const s = setup();
  s.transport.deliver(register());
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 100, 'Trying'));
  assert.is(tx.state, 'Proceeding');
  s.clock.advance(500);
  s.transport.deliver(register());
  assert.equal(s.times(100), [0, 500]);
});

test('Completed: retransmissions get the final; further TU responses are refused; Timer J = 64*T1 on UDP', () => {
  const s = setup();
  s.transport.deliver(register());
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 200, 'OK', { toTag: 'r1' }));
  assert.is(tx.state, 'Completed');
  s.clock.advance(1000);
  s.transport.deliver(register());
  assert.equal(s.times(200), [0, 1000]);
  assert.throws(() => tx.respond(createResponse(tx.request, 500)), (e: unknown) => isPgwError(e, 'PGW_E_SIP_STATE'));
  s.clock.advance(TIMER_J - 1000 - 1);
  assert.is(tx.state, 'Completed');
  s.clock.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.equal(s.layer.count(), { client: 0, server: 0 });
  // After the transaction is gone, the same request is new again.
  s.transport.deliver(register());
  assert.is(s.requests.length, 2);
});

test('TCP: Timer J = 0, terminated with the final response', () => {
  const s = setup();
  s.transport.deliver(register({ transport: 'TCP' }), { protocol: 'tcp', address: '192.0.2.50', port: 40000 }, 'tcp-3');
  const tx = s.requests[0]!.tx!;
  tx.respond(createResponse(tx.request, 200, 'OK', { toTag: 'r1' }));
  assert.is(tx.state, 'Terminated');
  assert.is(s.transport.responses(200)[0]!.options?.connectionId, 'tcp-3');
});

test('merged request (§8.2.2.2): same From tag, Call-ID and CSeq, other branch → 482, not passed up', () => {
  const s = setup();
  s.transport.deliver(register());
  s.transport.deliver(register({ branch: 'z9hG4bK-other-path', sentBy: '198.51.100.7:5060' }));
  assert.is(s.requests.length, 1);
  const loop = s.transport.responses(482);
  assert.is(loop.length, 1);
  assert.match(loop[0]!.message.headers.get('Via')!, /z9hG4bK-other-path/);
  // Its retransmission is absorbed by the 482's own transaction.
  s.transport.deliver(register({ branch: 'z9hG4bK-other-path', sentBy: '198.51.100.7:5060' }));
  assert.is(s.transport.responses(482).length, 2);
  assert.is(s.requests.length, 1);
});

test('not merged: a To tag (in-dialog), another CSeq, or the first transaction gone', () => {
  const s = setup();
  s.transport.deliver(register());
  s.transport.deliver(register({ branch: 'z9hG4bK-b2', toTag: 'dlg' }));
  s.transport.deliver(register({ branch: 'z9hG4bK-b3', cseq: 2 }));
  assert.is(s.requests.length, 3);
  const first = s.requests[0]!.tx!;
  first.respond(createResponse(first.request, 200, 'OK', { toTag: 'x' }));
  s.clock.advance(TIMER_J);
  s.transport.deliver(register({ branch: 'z9hG4bK-b4' }));
  assert.is(s.requests.length, 4);
  assert.is(s.transport.responses(482).length, 0);
});

test('no transaction user: 503', () => {
  const s = setup(null);
  s.transport.deliver(register());
  assert.is(s.transport.responses(503).length, 1);
});

test('a TU that throws: 500, and the layer carries on', () => {
  const s = setup({
    onRequest: () => {
      throw new Error('TU bug');
    },
  });
  s.transport.deliver(register());
  assert.is(s.transport.responses(500).length, 1);
  s.transport.deliver(register({ branch: 'z9hG4bK-next', callId: 'other' }));
  assert.is(s.transport.responses(500).length, 2);
});

test('the transition table rejects illegal moves', () => {
  const fsm = new StateMachine('non-INVITE server', 'Trying', NON_INVITE_SERVER_TRANSITIONS, silentLogger());
  fsm.transition('Proceeding');
  assert.throws(() => fsm.transition('Trying'));
  fsm.transition('Completed');
  assert.throws(() => fsm.transition('Proceeding'));
});

test.run();
