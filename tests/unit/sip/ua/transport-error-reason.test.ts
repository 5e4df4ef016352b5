/**
 * sendRequest's 503 stand-in for a transport error says what failed in its
 * reason phrase (a refused TLS certificate, a refused connection), so the
 * uplinks can tell an operator why a TLS uplink is down.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PEER } from './fake-transactions.js';
import { flush, harness } from './harness.js';

test('a transport error becomes 503 "Transport Error: <what failed>"', async () => {
  const h = harness();
  const p = h.ua.sendRequest({ method: 'OPTIONS', uri: 'sip:peer.example', destination: PEER, from: '<sip:gw@x>', to: '<sip:peer.example>' });
  await flush();
  h.tx.lastSent('OPTIONS').transportError();
  const { response } = await p;
  assert.is(response.status, 503);
  assert.is(response.reason, 'Transport Error: boom');
});

test.run();
