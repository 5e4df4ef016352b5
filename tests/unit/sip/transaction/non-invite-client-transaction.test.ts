/** Non-INVITE client transaction (RFC 3261 §17.1.2): every state, timer and retransmission count. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import type { Endpoint } from '../../../../firmware/src/sip/transport/api.js';
import { createTransactionLayer } from '../../../../firmware/src/sip/transaction/transaction-layer.js';
import { NON_INVITE_CLIENT_TRANSITIONS } from '../../../../firmware/src/sip/transaction/non-invite-client-transaction.js';
import { StateMachine } from '../../../../firmware/src/util/state-machine.js';
import { TIMER_F, TIMER_K } from '../../../../firmware/src/sip/transaction/timers.js';
import { FakeTransport, PEER, answer, outboundRequest } from './fake-transport.js';

function setup(method = 'REGISTER', destination: Endpoint = PEER, timers?: { T1?: number; T2?: number; T4?: number }) {
  const clock = new FakeClock();
  const start = clock.now();
  const transport = new FakeTransport(clock);
  const layer = createTransactionLayer({ transport, clock, logger: silentLogger(), ...(timers ? { timers } : {}) });
  const events: Array<{ kind: string; status?: number; at: number }> = [];
  layer.setUser({ onRequest: () => undefined });
  const tx = layer.sendRequest(outboundRequest(method), {
    destination,
    handlers: {
      onResponse: (r) => events.push({ kind: 'response', status: r.status, at: clock.now() - start }),
      onTimeout: () => events.push({ kind: 'timeout', at: clock.now() - start }),
      onTransportError: () => events.push({ kind: 'transport-error', at: clock.now() - start }),
    },
  });
  const sendTimes = () => transport.requests(method).map((s) => s.at - start);
  return { clock, transport, layer, tx, events, sendTimes };
}

test('UDP, no answer: Timer E doubles from T1 to T2 and Timer F times out at 32 s', () => {
  const s = setup();
  assert.is(s.tx.state, 'Trying');
  s.clock.advance(TIMER_F - 1);
  assert.equal(s.sendTimes(), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(s.events, []);
  s.clock.advance(1);
  assert.equal(s.events, [{ kind: 'timeout', at: 32_000 }]);
  assert.is(s.tx.state, 'Terminated');
  assert.is(s.clock.pending(), 0);
});

test('Proceeding: retransmissions every T2, still ended by Timer F', () => {
  const s = setup();
  s.clock.advance(100);
  s.transport.deliver(answer(s.tx.request, 100));
  assert.is(s.tx.state, 'Proceeding');
  s.clock.advance(TIMER_F - 100);
  // E fires at 500 (set in Trying), then every T2.
  assert.equal(s.sendTimes(), [0, 500, 4500, 8500, 12500, 16500, 20500, 24500, 28500]);
  assert.equal(s.events.map((e) => e.kind), ['response', 'timeout']);
  assert.is(s.tx.state, 'Terminated');
});

test('final response: Completed, the TU told once, retransmissions absorbed, Timer K = T4', () => {
  const s = setup();
  s.clock.advance(600);
  s.transport.deliver(answer(s.tx.request, 401));
  assert.is(s.tx.state, 'Completed');
  s.transport.deliver(answer(s.tx.request, 401));
  s.transport.deliver(answer(s.tx.request, 200));
  assert.equal(s.events.map((e) => e.status), [401]);
  s.clock.advance(TIMER_K - 1);
  assert.is(s.tx.state, 'Completed');
  assert.equal(s.sendTimes(), [0, 500], 'no retransmission once completed');
  s.clock.advance(1);
  assert.is(s.tx.state, 'Terminated');
  assert.equal(s.layer.count(), { client: 0, server: 0 });
});

test('final from Proceeding', () => {
  const s = setup('OPTIONS');
  s.transport.deliver(answer(s.tx.request, 100));
  s.transport.deliver(answer(s.tx.request, 200));
  assert.is(s.tx.state, 'Completed');
  assert.equal(s.events.map((e) => e.status), [100, 200]);
});

test('TCP: no Timer E; a final response terminates at once (Timer K = 0)', () => {
  const s = setup('BYE', { protocol: 'tcp', address: '192.0.2.50', port: 5060 });
  s.clock.advance(10_000);
  assert.equal(s.sendTimes(), [0]);
  s.transport.deliver(answer(s.tx.request, 200));
  assert.is(s.tx.state, 'Terminated');
});

test('TCP: Timer F still times out', () => {
  const s = setup('BYE', { protocol: 'tls', address: '192.0.2.50', port: 5061 });
  s.clock.advance(TIMER_F);
  assert.equal(s.events.map((e) => e.kind), ['timeout']);
});

test('custom T1/T2 scale every timer', () => {
  const s = setup('OPTIONS', PEER, { T1: 100, T2: 400, T4: 1000 });
  s.clock.advance(64 * 100);
  assert.equal(s.sendTimes(), [0, 100, 300, 700, 1100, 1500, 1900, 2300, 2700, 3100, 3500, 3900, 4300, 4700, 5100, 5500, 5900, 6300]);
  assert.equal(s.events.map((e) => e.kind), ['timeout']);
});

test('a response for another method with the same branch is not ours (§17.1.3)', () => {
  const s = setup('OPTIONS');
  const r = answer(s.tx.request, 200);
  r.headers.set('CSeq', '7 CANCEL');
  s.transport.deliver(r);
  assert.is(s.tx.state, 'Trying');
});

test('the transition table rejects illegal moves', () => {
  const fsm = new StateMachine('non-INVITE client', 'Trying', NON_INVITE_CLIENT_TRANSITIONS, silentLogger());
  fsm.transition('Completed');
  assert.throws(() => fsm.transition('Proceeding'));
  assert.throws(() => fsm.transition('Trying'));
});

test.run();
