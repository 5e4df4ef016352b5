import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDigestServer } from '../../../../firmware/src/sip/auth/digest-server.js';
import { Registration, type RegistrationOptions } from '../../../../firmware/src/sip/ua/registration.js';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { PEER } from './fake-transactions.js';
import { flush, harness, type Harness } from './harness.js';

function reg(h: Harness, o: Partial<RegistrationOptions> = {}): { r: Registration; log: string[] } {
  const r = new Registration({
    ua: h.ua,
    clock: h.clock,
    registrar: 'sip:trunk.example',
    destination: PEER,
    aor: '<sip:01234567890@trunk.example>',
    contactUser: '01234567890',
    random: () => 1,
    ...o,
  });
  const log: string[] = [];
  r.on('state', (e) => log.push(e.to));
  r.on('registered', (e) => log.push(`registered:${e.expires}`));
  r.on('failed', (e) => log.push(`failed:${e.status}:${e.retryInMs}`));
  r.on('unregistered', (e) => log.push(`unregistered:${e.status}`));
  return { r, log };
}

const OUR_CONTACT = '<sip:01234567890@192.0.2.10:5060>';

test('REGISTER, granted expiry from our Contact, refresh at half of it with the same Call-ID and CSeq+1', async () => {
  const h = harness();
  const { r, log } = reg(h, { expires: 3600 });
  r.start();
  await flush();
  const first = h.tx.lastSent('REGISTER');
  assert.is(first.request.uri, 'sip:trunk.example');
  assert.is(first.request.headers.get('Contact'), OUR_CONTACT);
  assert.is(first.request.headers.get('Expires'), '3600');
  assert.is(first.request.headers.get('To'), '<sip:01234567890@trunk.example>');
  first.respond(200, { headers: [['Contact', `<sip:other@198.51.100.9>;expires=60, ${OUR_CONTACT};expires=600`]] });
  await flush();
  assert.is(r.state, 'registered');
  assert.is(r.granted, 600);
  h.clock.advance(299_999);
  assert.is(h.tx.sent('REGISTER').length, 1);
  h.clock.advance(1);
  await flush();
  const second = h.tx.lastSent('REGISTER');
  assert.is(h.tx.sent('REGISTER').length, 2);
  assert.is(second.request.headers.get('Call-ID'), first.request.headers.get('Call-ID'));
  assert.is(Number(second.request.headers.get('CSeq')!.split(' ')[0]), Number(first.request.headers.get('CSeq')!.split(' ')[0]) + 1);
  assert.is(r.state, 'registered', 'a refresh does not flap the state');
  second.respond(200, { headers: [['Expires', '120']] });
  await flush();
  assert.is(r.granted, 120);
  assert.equal(log, ['registering', 'registered', 'registered:600', 'registered:120']);
});

test('digest challenge answered; CSeq continues after the retry', async () => {
  const h = harness();
  const server = createDigestServer({ realm: 'trunk.example', clock: new FakeClock() });
  const { r } = reg(h, { credentials: { username: 'gw', password: 'pw' } });
  r.start();
  await flush();
  h.tx.lastSent('REGISTER').respond(401, { headers: server.challenge() });
  await flush();
  const signed = h.tx.lastSent('REGISTER');
  assert.equal(server.verify(signed.request, () => 'pw'), { result: 'ok', username: 'gw' });
  signed.respond(200, { headers: [['Contact', `${OUR_CONTACT};expires=100`]] });
  await flush();
  assert.is(r.state, 'registered');
  h.clock.advance(50_000);
  await flush();
  const refresh = h.tx.lastSent('REGISTER');
  assert.is(Number(refresh.request.headers.get('CSeq')!.split(' ')[0]), Number(signed.request.headers.get('CSeq')!.split(' ')[0]) + 1);
});

test('failure: retrying with doubling backoff up to the cap; success resets it', async () => {
  const h = harness();
  const { r, log } = reg(h, { retry: { minMs: 1000, maxMs: 4000 } });
  r.start();
  await flush();
  for (const wait of [1000, 2000, 4000, 4000]) {
    h.tx.lastSent('REGISTER').respond(503);
    await flush();
    assert.is(r.state, 'retrying');
    const n = h.tx.sent('REGISTER').length;
    h.clock.advance(wait - 1);
    await flush();
    assert.is(h.tx.sent('REGISTER').length, n, `no retry before ${wait}`);
    h.clock.advance(1);
    await flush();
    assert.is(h.tx.sent('REGISTER').length, n + 1, `retry at ${wait}`);
  }
  h.tx.lastSent('REGISTER').respond(200);
  await flush();
  assert.is(r.state, 'registered');
  assert.is(r.granted, 3600);
  assert.equal(log.filter((l) => l.startsWith('failed')), ['failed:503:1000', 'failed:503:2000', 'failed:503:4000', 'failed:503:4000']);
  // Timeout counts as failure too, and backoff starts again from the minimum.
  h.clock.advance(1_800_000);
  await flush();
  h.tx.lastSent('REGISTER').timeout();
  await flush();
  assert.is(log[log.length - 1], 'failed:408:1000');
});

test('jitter scales the wait between half and all of it', async () => {
  const h = harness();
  const { r, log } = reg(h, { retry: { minMs: 1000, maxMs: 4000 }, random: () => 0 });
  r.start();
  await flush();
  h.tx.lastSent('REGISTER').respond(500);
  await flush();
  assert.is(log[log.length - 1], 'failed:500:500');
});

test('tlsServerName is passed to the transaction layer', async () => {
  const h = harness();
  const { r } = reg(h, { tlsServerName: 'trunk.example' });
  r.start();
  await flush();
  assert.is(h.tx.lastSent('REGISTER').tlsServerName, 'trunk.example');
});

test('423: retried at once with Min-Expires', async () => {
  const h = harness();
  const { r } = reg(h, { expires: 60 });
  r.start();
  await flush();
  h.tx.lastSent('REGISTER').respond(423, { headers: [['Min-Expires', '300']] });
  await flush();
  assert.is(h.tx.lastSent('REGISTER').request.headers.get('Expires'), '300');
  assert.is(r.state, 'registering');
});

test('stop(): unregister with Expires 0; answers to older REGISTERs are ignored', async () => {
  const h = harness();
  const { r, log } = reg(h);
  r.start();
  await flush();
  h.tx.lastSent('REGISTER').respond(200);
  await flush();
  const stopped = r.stop();
  await flush();
  const un = h.tx.lastSent('REGISTER');
  assert.is(un.request.headers.get('Expires'), '0');
  un.respond(200);
  await stopped;
  assert.is(r.state, 'idle');
  assert.is(log[log.length - 1], 'unregistered:200');
  h.clock.advance(10_000_000);
  assert.is(h.tx.sent('REGISTER').length, 2, 'no refresh after stop');
  // Stop while retrying: nothing to unregister.
  const b = reg(h);
  b.r.start();
  await flush();
  h.tx.lastSent('REGISTER').respond(500);
  await flush();
  await b.r.stop();
  assert.is(b.r.state, 'idle');
  assert.is(h.tx.sent('REGISTER').length, 3);
});

test.run();
