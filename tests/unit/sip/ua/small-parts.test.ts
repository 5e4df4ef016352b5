import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import type { SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';
import { AuthRetry } from '../../../../firmware/src/sip/ua/credentials.js';
import { glareRetryDelayMs, overlapRetryAfterSeconds } from '../../../../firmware/src/sip/ua/glare.js';
import { OfferAnswer } from '../../../../firmware/src/sip/ua/offer-answer.js';
import { Retransmitter } from '../../../../firmware/src/sip/ua/retransmitter.js';
import { TypedEvents } from '../../../../firmware/src/sip/ua/typed-events.js';
import { FakeClock } from '../../../../firmware/src/util/clock.js';

test('glare delays: owner 2100..4000 ms, other 0..2000 ms, both in 10 ms steps', () => {
  const samples = [0, 0.001, 0.3, 0.5, 0.77, 0.999999];
  for (const x of samples) {
    const a = glareRetryDelayMs(true, () => x);
    const b = glareRetryDelayMs(false, () => x);
    assert.ok(a >= 2100 && a <= 4000 && a % 10 === 0, `owner ${a}`);
    assert.ok(b >= 0 && b <= 2000 && b % 10 === 0, `other ${b}`);
  }
  assert.is(glareRetryDelayMs(true, () => 0), 2100);
  assert.is(glareRetryDelayMs(true, () => 0.999999), 4000);
  assert.is(glareRetryDelayMs(false, () => 0.999999), 2000);
  assert.is(overlapRetryAfterSeconds(() => 0.999999), 10);
});

test('offer/answer: legal moves, rollback keeps the last descriptions, illegal moves throw', () => {
  const oa = new OfferAnswer();
  const b = (s: string) => ({ contentType: 'application/sdp', body: Buffer.from(s) });
  oa.localOffer(b('o1'), 'invite');
  assert.is(oa.state, 'local-offer');
  assert.throws(() => oa.remoteOffer(b('x'), 'update'), /illegal/);
  oa.remoteAnswer(b('a1'));
  assert.equal([oa.state, oa.local!.body.toString(), oa.remote!.body.toString(), oa.completed], ['stable', 'o1', 'a1', 1]);
  oa.remoteOffer(b('o2'), 'reinvite');
  oa.rollback();
  assert.equal([oa.state, oa.local!.body.toString(), oa.remote!.body.toString()], ['stable', 'o1', 'a1']);
  oa.remoteOffer(b('o3'), 'update');
  oa.localAnswer(b('a3'));
  assert.equal([oa.local!.body.toString(), oa.remote!.body.toString(), oa.completed], ['a3', 'o3', 2]);
  assert.throws(() => oa.localAnswer(b('x')), /illegal/);
});

test('retransmitter: T1 doubling capped, stop, give up', () => {
  const clock = new FakeClock(0);
  const at: number[] = [];
  let gaveUp = -1;
  const rt = new Retransmitter({ clock, t1: 500, cap: 4000, giveUpAfter: 32_000, send: () => at.push(clock.now()), onGiveUp: () => (gaveUp = clock.now()) });
  rt.start();
  clock.advance(40_000);
  assert.equal(at, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.is(gaveUp, 32_000);
  assert.not.ok(rt.running);
  at.length = 0;
  rt.start();
  clock.advance(1600);
  rt.stop();
  clock.advance(100_000);
  assert.equal(at, [40_500, 41_500]);
});

test('AuthRetry: once per realm, one more on stale=true, nothing without credentials', () => {
  const req: SipRequest = { kind: 'request', method: 'REGISTER', uri: 'sip:r', headers: new Headers(), body: Buffer.alloc(0) };
  const ch = (realm: string, stale = false): SipResponse => ({
    kind: 'response',
    status: 401,
    reason: '',
    headers: new Headers([['WWW-Authenticate', `Digest realm="${realm}", nonce="n", qop="auth"${stale ? ', stale=true' : ''}`]]),
    body: Buffer.alloc(0),
  });
  const a = new AuthRetry({ username: 'u', password: 'p' });
  assert.is(a.answer(ch('r1'), req)![0], 'Authorization');
  assert.is(a.answer(ch('r1'), req), undefined);
  const b = new AuthRetry({ username: 'u', password: 'p' });
  assert.ok(b.answer(ch('r1'), req));
  assert.ok(b.answer(ch('r1', true), req));
  assert.is(b.answer(ch('r1', true), req), undefined);
  assert.ok(b.answer(ch('r2'), req), 'another realm is another challenge');
  assert.is(new AuthRetry(undefined).answer(ch('r1'), req), undefined);
  const byRealm = new AuthRetry((realm) => (realm === 'mine' ? { username: 'u', password: 'p' } : undefined));
  assert.is(byRealm.answer(ch('theirs'), req), undefined);
  assert.ok(byRealm.answer(ch('mine'), req));
});

test('typed events: on/once/off; a throwing listener does not stop the others', () => {
  const e = new TypedEvents<{ a: number; b: string }>();
  const got: string[] = [];
  const off = e.on('a', (n) => got.push(`a${n}`));
  e.once('a', (n) => got.push(`once${n}`));
  e.on('a', () => {
    throw new Error('bad listener');
  });
  e.on('a', (n) => got.push(`after${n}`));
  e.emit('a', 1);
  e.emit('a', 2);
  off();
  e.emit('a', 3);
  assert.equal(got, ['a1', 'once1', 'after1', 'a2', 'after2', 'after3']);
  assert.is(e.listenerCount('b'), 0);
});

test.run();
