/**
 * A re-INVITE sent with `retryGlare: false` (what the B2BUA does when it
 * relays someone else's offer) resolves with the 491 at once, without the
 * RFC 3261 §14.1 retry, and leaves the session stable for the next offer.
 * Found by tests/integration/pbx/glare.test.ts: the gateway sat on the
 * caller's re-INVITE for 2.1–4 s and retried itself, so the caller never saw
 * the 491 and a real glare would have been resolved twice.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sdp } from './fake-transactions.js';
import { call, flush, harness } from './harness.js';

test('retryGlare: false hands the 491 back without retrying', async () => {
  const h = harness();
  const s = call(h, { body: sdp('ours-1') });
  h.tx.lastSent('INVITE').respond(200, { toTag: 'peer', headers: [['Contact', '<sip:202@198.51.100.20:5062>']], body: 'v=0\r\no=- peer 1\r\n' });
  assert.is(s.state, 'confirmed');

  const p = s.reinvite({ body: sdp('hold'), retryGlare: false });
  await flush();
  h.tx.lastSent('INVITE').respond(491);
  assert.is((await p).status, 491);
  assert.is(s.offerAnswerState, 'stable', 'the refused offer is rolled back');
  const sent = h.tx.sent('INVITE').length;
  h.clock.advance(5_000);
  assert.is(h.tx.sent('INVITE').length, sent, 'no retry later either');

  // The session takes the next offer (the caller's retry, relayed) normally.
  const retry = s.reinvite({ body: sdp('hold-again'), retryGlare: false });
  await flush();
  h.tx.lastSent('INVITE').respond(200, { body: 'v=0\r\no=- peer 2\r\n' });
  assert.is((await retry).status, 200);
  assert.is(s.state, 'confirmed');
});

test('the default still retries after the §14.1 wait', async () => {
  const h = harness();
  const s = call(h, { body: sdp('ours-1') });
  h.tx.lastSent('INVITE').respond(200, { toTag: 'peer', headers: [['Contact', '<sip:202@198.51.100.20:5062>']], body: 'v=0\r\no=- peer 1\r\n' });
  const p = s.reinvite({ body: sdp('hold') });
  await flush();
  h.randoms.push(0);
  h.tx.lastSent('INVITE').respond(491);
  const sent = h.tx.sent('INVITE').length;
  h.clock.advance(2_100);
  assert.is(h.tx.sent('INVITE').length, sent + 1);
  h.tx.lastSent('INVITE').respond(200, { body: 'v=0\r\no=- peer 2\r\n' });
  assert.is((await p).status, 200);
});

test.run();
