/**
 * Registration.refreshNow(): a REGISTER at once when the registrar has just
 * become reachable again (the uplinks' register-mode failback waits for it).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registration } from '../../../../firmware/src/sip/ua/registration.js';
import { PEER } from './fake-transactions.js';
import { flush, harness, type Harness } from './harness.js';

function reg(h: Harness): { r: Registration; log: string[] } {
  const r = new Registration({
    ua: h.ua,
    clock: h.clock,
    registrar: 'sip:cloud.example',
    destination: PEER,
    aor: '<sip:rs-201@cloud.example>',
    contactUser: '201',
    expires: 600,
    retry: { minMs: 1000, maxMs: 60_000 },
    random: () => 1,
  });
  const log: string[] = [];
  r.on('state', (e) => log.push(e.to));
  r.on('registered', (e) => log.push(`registered:${e.expires}`));
  r.on('failed', (e) => log.push(`failed:${e.status}`));
  return { r, log };
}

test('registered: refreshNow sends a REGISTER at once, stays registered, next CSeq, and the refresh timer starts again from the answer', async () => {
  const h = harness();
  const { r, log } = reg(h);
  r.start();
  await flush();
  const first = h.tx.lastSent('REGISTER');
  first.respond(200, { headers: [['Expires', '600']] });
  await flush();
  h.clock.advance(10_000);
  r.refreshNow();
  await flush();
  assert.is(h.tx.sent('REGISTER').length, 2);
  const second = h.tx.lastSent('REGISTER');
  assert.is(Number(second.request.headers.get('CSeq')!.split(' ')[0]), Number(first.request.headers.get('CSeq')!.split(' ')[0]) + 1);
  assert.is(r.state, 'registered', 'no flap while the refresh is in flight');
  // A second call while that REGISTER is unanswered sends nothing (one REGISTER at a time).
  r.refreshNow();
  await flush();
  assert.is(h.tx.sent('REGISTER').length, 2);
  second.respond(200, { headers: [['Expires', '600']] });
  await flush();
  assert.equal(log, ['registering', 'registered', 'registered:600', 'registered:600']);
  // The old timer (300 s after the first answer) is gone; the new one runs from the second answer.
  h.clock.advance(290_000);
  await flush();
  assert.is(h.tx.sent('REGISTER').length, 2, 'the old refresh timer was cancelled');
  h.clock.advance(10_000);
  await flush();
  assert.is(h.tx.sent('REGISTER').length, 3);
});

test('retrying: refreshNow skips the backoff, and the backoff starts again from its minimum', async () => {
  const h = harness();
  const { r, log } = reg(h);
  r.start();
  await flush();
  for (let i = 0; i < 3; i++) {
    h.tx.lastSent('REGISTER').respond(503);
    await flush();
    h.clock.advance(60_000);
    await flush();
  }
  h.tx.lastSent('REGISTER').respond(503);
  await flush();
  assert.is(r.state, 'retrying');
  const n = h.tx.sent('REGISTER').length;
  r.refreshNow();
  await flush();
  assert.is(h.tx.sent('REGISTER').length, n + 1);
  assert.is(r.state, 'registering');
  h.tx.lastSent('REGISTER').respond(503);
  await flush();
  h.clock.advance(999);
  await flush();
  assert.is(h.tx.sent('REGISTER').length, n + 1);
  h.clock.advance(1);
  await flush();
  assert.is(h.tx.sent('REGISTER').length, n + 2, 'retried after the minimum backoff');
  h.tx.lastSent('REGISTER').respond(200);
  await flush();
  assert.is(r.state, 'registered');
  assert.ok(log.includes('registered:600'));
});

test('idle, registering or stopped: refreshNow does nothing', async () => {
  const h = harness();
  const { r } = reg(h);
  r.refreshNow();
  await flush();
  assert.is(h.tx.sent('REGISTER').length, 0);
  r.start();
  await flush();
  r.refreshNow();
  await flush();
  assert.is(h.tx.sent('REGISTER').length, 1, 'registering: the answer is coming');
  h.tx.lastSent('REGISTER').respond(200);
  await flush();
  const stopping = r.stop();
  await flush();
  h.tx.lastSent('REGISTER').respond(200);
  await stopping;
  const n = h.tx.sent('REGISTER').length;
  r.refreshNow();
  await flush();
  assert.is(h.tx.sent('REGISTER').length, n);
});

test.run();
