/** Two SIP stacks talking over real UDP and TCP sockets on 127.0.0.1: the layers work together. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { createResponse, generateTag } from '../../../../firmware/src/sip/message/index.js';
import type { SipResponse } from '../../../../firmware/src/sip/message/types.js';
import type { Endpoint } from '../../../../firmware/src/sip/transport/api.js';
import { startSipStack } from '../../../../firmware/src/sip/transaction/sip-stack.js';
import type { SipStack } from '../../../../firmware/src/sip/transaction/sip-stack.js';
import { outboundRequest } from './fake-transport.js';

async function waitFor<T>(probe: () => T | undefined, what: string): Promise<T> {
  const until = Date.now() + 2000;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function pair(fn: (a: SipStack, b: SipStack, clock: FakeClock) => Promise<void>): Promise<void> {
  const clock = new FakeClock();
  const listen = [
    { protocol: 'udp' as const, host: '127.0.0.1', port: 0 },
    { protocol: 'tcp' as const, host: '127.0.0.1', port: 0 },
  ];
  const a = await startSipStack({ listen, logger: silentLogger(), clock });
  const b = await startSipStack({ listen, logger: silentLogger(), clock });
  try {
    await fn(a, b, clock);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

const endpointOf = (s: SipStack, protocol: 'udp' | 'tcp'): Endpoint => s.transport.listening().find((e) => e.protocol === protocol)!;

for (const protocol of ['udp', 'tcp'] as const) {
  test(`${protocol}: OPTIONS answered 200 end to end`, async () => {
    await pair(async (a, b) => {
      b.transactions.setUser({ onRequest: (req, tx) => tx?.respond(createResponse(req, 200, 'OK', { toTag: generateTag() })) });
      const got: SipResponse[] = [];
      const tx = a.transactions.sendRequest(outboundRequest('OPTIONS'), {
        destination: endpointOf(b, protocol),
        handlers: { onResponse: (r) => got.push(r), onTimeout() {}, onTransportError() {} },
      });
      const res = await waitFor(() => got[0], '200');
      assert.is(res.status, 200);
      assert.is(tx.state, protocol === 'udp' ? 'Completed' : 'Terminated');
    });
  });

  test(`${protocol}: INVITE → 486 → ACK confirms the server transaction`, async () => {
    await pair(async (a, b) => {
      const states: string[] = [];
      let serverTx: { state: string } | undefined;
      b.transactions.setUser({
        onRequest: (req, tx) => {
          if (!tx) return;
          serverTx = tx;
          tx.respond(createResponse(req, 486, 'Busy Here', { toTag: generateTag() }));
        },
      });
      const got: number[] = [];
      a.transactions.sendRequest(outboundRequest('INVITE'), {
        destination: endpointOf(b, protocol),
        handlers: { onResponse: (r) => got.push(r.status), onTimeout() {}, onTransportError() {} },
      });
      await waitFor(() => (got.includes(486) ? true : undefined), '486');
      await waitFor(() => (serverTx && serverTx.state !== 'Completed' ? true : undefined), 'the ACK');
      states.push(serverTx!.state);
      assert.equal(states, [protocol === 'udp' ? 'Confirmed' : 'Terminated']);
    });
  });
}

test.run();
