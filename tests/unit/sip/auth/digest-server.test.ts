import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { answerChallenge } from '../../../../firmware/src/sip/auth/digest-client.js';
import { computeHa1 } from '../../../../firmware/src/sip/auth/digest-hash.js';
import { parseAuthHeader } from '../../../../firmware/src/sip/auth/digest-params.js';
import { createDigestServer, uriLooselyMatches } from '../../../../firmware/src/sip/auth/digest-server.js';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import type { SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';
import { FakeClock } from '../../../../firmware/src/util/clock.js';

const REALM = 'surgery.example';
const users: Record<string, string> = { '201': 'secret201', '202': 'secret202' };
const lookup = (u: string): string | undefined => users[u];

function register(uri = `sip:${REALM}`): SipRequest {
  return { kind: 'request', method: 'REGISTER', uri, headers: new Headers(), body: Buffer.alloc(0) };
}
function challengeResponse(lines: [string, string][], status = 401): SipResponse {
  return { kind: 'response', status, reason: 'Unauthorized', headers: new Headers(lines), body: Buffer.alloc(0) };
}
/** A phone answering the server's challenge for `req`. */
function authorize(req: SipRequest, lines: [string, string][], user: string, pass: string, opts: { nc?: number; status?: number } = {}): SipRequest {
  const [name, value] = answerChallenge({ response: challengeResponse(lines, opts.status), request: req, username: user, password: pass, nc: opts.nc ?? 1 });
  const h = new Headers();
  h.append(name, value);
  return { ...req, headers: h };
}

test('challenge: SHA-256 first then MD5, qop="auth", one shared nonce; stale and proxy forms', () => {
  const s = createDigestServer({ realm: REALM, clock: new FakeClock() });
  const lines = s.challenge();
  assert.equal(lines.map(([n]) => n), ['WWW-Authenticate', 'WWW-Authenticate']);
  const [a, b] = lines.map(([, v]) => parseAuthHeader(v)[0]!.params);
  assert.is(a!.get('algorithm'), 'SHA-256');
  assert.is(b!.get('algorithm'), 'MD5');
  assert.is(a!.get('qop'), 'auth');
  assert.is(a!.get('realm'), REALM);
  assert.is(a!.get('nonce'), b!.get('nonce'));
  assert.ok(lines[0]![1].includes('qop="auth"'));
  assert.is(a!.get('stale'), undefined);
  const p = s.challenge({ stale: true, proxy: true });
  assert.is(p[0]![0], 'Proxy-Authenticate');
  assert.is(parseAuthHeader(p[0]![1])[0]!.params.get('stale'), 'true');
  // Two challenges never share a nonce.
  assert.is.not(parseAuthHeader(s.challenge()[0]![1])[0]!.params.get('nonce'), a!.get('nonce'));
});

test('a right answer (SHA-256 and MD5) is ok; username reported', () => {
  const s = createDigestServer({ realm: REALM, clock: new FakeClock() });
  const ok = s.verify(authorize(register(), s.challenge(), '201', 'secret201'), lookup);
  assert.equal(ok, { result: 'ok', username: '201' });
  const md5Only = s.challenge().filter(([, v]) => v.includes('MD5'));
  const req = authorize(register(), md5Only, '202', 'secret202');
  assert.ok(req.headers.get('Authorization')!.includes('algorithm=MD5'));
  assert.equal(s.verify(req, lookup), { result: 'ok', username: '202' });
});

test('precomputed HA1 per algorithm works', () => {
  const s = createDigestServer({ realm: REALM, clock: new FakeClock() });
  const store = (u: string) => (u === '201' ? { ha1: { 'SHA-256': computeHa1('SHA-256', '201', REALM, 'secret201') } } : undefined);
  assert.equal(s.verify(authorize(register(), s.challenge(), '201', 'secret201'), store), { result: 'ok', username: '201' });
  // Only SHA-256 kept: an MD5 answer cannot be checked and fails.
  const md5Only = s.challenge().filter(([, v]) => v.includes('MD5'));
  assert.is(s.verify(authorize(register(), md5Only, '201', 'secret201'), store).result, 'fail');
});

test('wrong password and unknown user give the identical answer', () => {
  const s = createDigestServer({ realm: REALM, clock: new FakeClock() });
  const wrong = s.verify(authorize(register(), s.challenge(), '201', 'nope'), lookup);
  const unknown = s.verify(authorize(register(), s.challenge(), '999', 'nope'), lookup);
  assert.equal(wrong, { result: 'fail', reason: 'credentials' });
  assert.equal(unknown, wrong);
});

test('no credentials, other realm, forged nonce', () => {
  const s = createDigestServer({ realm: REALM, clock: new FakeClock() });
  assert.equal(s.verify(register(), lookup), { result: 'fail', reason: 'missing' });
  const other = createDigestServer({ realm: 'other.example', clock: new FakeClock() });
  assert.equal(s.verify(authorize(register(), other.challenge(), '201', 'secret201'), lookup), { result: 'fail', reason: 'missing' });
  // Same realm, another box (another secret): its nonce is not ours.
  const twin = createDigestServer({ realm: REALM, clock: new FakeClock() });
  assert.equal(s.verify(authorize(register(), twin.challenge(), '201', 'secret201'), lookup), { result: 'fail', reason: 'nonce' });
  // A given secret makes nonces survive a "restart".
  const secret = Buffer.alloc(32, 7);
  const a = createDigestServer({ realm: REALM, clock: new FakeClock(), secret });
  const b = createDigestServer({ realm: REALM, clock: new FakeClock(), secret });
  assert.is(b.verify(authorize(register(), a.challenge(), '201', 'secret201'), lookup).result, 'ok');
});

test('nonce expiry: stale only with a right digest', () => {
  const clock = new FakeClock();
  const s = createDigestServer({ realm: REALM, clock, nonceTtlMs: 60_000 });
  const ch = s.challenge();
  clock.advance(59_000);
  assert.is(s.verify(authorize(register(), ch, '201', 'secret201', { nc: 1 }), lookup).result, 'ok');
  clock.advance(2_000);
  assert.equal(s.verify(authorize(register(), ch, '201', 'secret201', { nc: 2 }), lookup), { result: 'stale' });
  assert.equal(s.verify(authorize(register(), ch, '201', 'wrong', { nc: 3 }), lookup), { result: 'fail', reason: 'credentials' });
  assert.equal(s.verify(authorize(register(), ch, '999', 'wrong', { nc: 3 }), lookup), { result: 'fail', reason: 'credentials' });
});

test('default TTL is 5 minutes', () => {
  const clock = new FakeClock();
  const s = createDigestServer({ realm: REALM, clock });
  const ch = s.challenge();
  clock.advance(299_000);
  assert.is(s.verify(authorize(register(), ch, '201', 'secret201', { nc: 1 }), lookup).result, 'ok');
  clock.advance(2_000);
  assert.is(s.verify(authorize(register(), ch, '201', 'secret201', { nc: 2 }), lookup).result, 'stale');
});

test('replay: a nonce-count that does not go up is refused (stale, so a real phone recovers)', () => {
  const s = createDigestServer({ realm: REALM, clock: new FakeClock() });
  const ch = s.challenge();
  const first = authorize(register(), ch, '201', 'secret201', { nc: 1 });
  assert.is(s.verify(first, lookup).result, 'ok');
  assert.is(s.verify(first, lookup).result, 'stale');
  assert.is(s.verify(authorize(register(), ch, '201', 'secret201', { nc: 2 }), lookup).result, 'ok');
  assert.is(s.verify(authorize(register(), ch, '201', 'secret201', { nc: 2 }), lookup).result, 'stale');
  assert.is(s.verify(authorize(register(), ch, '201', 'secret201', { nc: 5 }), lookup).result, 'ok');
  // A wrong digest with a high count does not burn counts for the real user.
  const ch2 = s.challenge();
  assert.is(s.verify(authorize(register(), ch2, '201', 'guess', { nc: 100 }), lookup).result, 'fail');
  assert.is(s.verify(authorize(register(), ch2, '201', 'secret201', { nc: 1 }), lookup).result, 'ok');
});

test('RFC 2069 answers (no qop) are accepted unless turned off', () => {
  const noQop: [string, string][] = [];
  const s = createDigestServer({ realm: REALM, clock: new FakeClock() });
  for (const [n, v] of s.challenge()) noQop.push([n, v.replace(', qop="auth"', '')]);
  assert.is(s.verify(authorize(register(), noQop, '201', 'secret201'), lookup).result, 'ok');
  const strict = createDigestServer({ realm: REALM, clock: new FakeClock(), allowNoQop: false });
  const strictNoQop = strict.challenge().map(([n, v]): [string, string] => [n, v.replace(', qop="auth"', '')]);
  assert.equal(strict.verify(authorize(register(), strictNoQop, '201', 'secret201'), lookup), { result: 'fail', reason: 'qop' });
});

test('algorithm not offered is refused', () => {
  const s = createDigestServer({ realm: REALM, clock: new FakeClock(), algorithms: ['SHA-256'] });
  assert.is(s.challenge().length, 1);
  const md5 = s.challenge().map(([n, v]): [string, string] => [n, v.replace('SHA-256', 'MD5')]);
  assert.equal(s.verify(authorize(register(), md5, '201', 'secret201'), lookup), { result: 'fail', reason: 'algorithm' });
});

test('digest uri must match the Request-URI loosely', () => {
  const s = createDigestServer({ realm: REALM, clock: new FakeClock() });
  const signed = authorize(register('sip:201@surgery.example'), s.challenge(), '201', 'secret201');
  // Same request sent to another target: refused.
  assert.equal(s.verify({ ...signed, uri: 'sip:202@surgery.example' }, lookup), { result: 'fail', reason: 'uri' });
  // Port, params and case of the host may differ.
  assert.is(s.verify({ ...signed, uri: 'sip:201@SURGERY.example:5060;transport=udp' }, lookup).result, 'ok');
  const off = createDigestServer({ realm: REALM, clock: new FakeClock(), uriCheck: 'off' });
  const signed2 = authorize(register('sip:201@surgery.example'), off.challenge(), '201', 'secret201');
  assert.is(off.verify({ ...signed2, uri: 'sip:202@elsewhere' }, lookup).result, 'ok');
});

test('uriLooselyMatches', () => {
  assert.ok(uriLooselyMatches('sip:a@h', 'sip:a@h'));
  assert.ok(uriLooselyMatches('sip:h', 'sips:H:5061'));
  assert.ok(uriLooselyMatches('sip:a@[2001:db8::1]', 'sip:a@[2001:DB8::1]:5060'));
  assert.not.ok(uriLooselyMatches('sip:a@h', 'sip:b@h'));
  assert.not.ok(uriLooselyMatches('sip:a@h', 'sip:a@g'));
  assert.not.ok(uriLooselyMatches('garbage', 'sip:a@g'));
});

test('a tampered response or malformed credentials fail', () => {
  const s = createDigestServer({ realm: REALM, clock: new FakeClock() });
  const good = authorize(register(), s.challenge(), '201', 'secret201');
  const v = good.headers.get('Authorization')!;
  const tampered = v.replace(/response="([0-9a-f])/, (_m, c: string) => `response="${c === '0' ? '1' : '0'}`);
  const h = new Headers([['Authorization', tampered]]);
  assert.equal(s.verify({ ...good, headers: h }, lookup), { result: 'fail', reason: 'credentials' });
  const noNc = new Headers([['Authorization', v.replace(/, nc=\w+/, '')]]);
  assert.equal(s.verify({ ...good, headers: noNc }, lookup), { result: 'fail', reason: 'malformed' });
  const noResp = new Headers([['Authorization', v.replace(/, response="\w+"/, '')]]);
  assert.equal(s.verify({ ...good, headers: noResp }, lookup), { result: 'fail', reason: 'malformed' });
  const badNonce = new Headers([['Authorization', v.replace(/nonce="[^"]+"/, 'nonce="AAAA"')]]);
  assert.equal(s.verify({ ...good, headers: badNonce }, lookup), { result: 'fail', reason: 'nonce' });
  // Upper-case hex in response is fine.
  const upper = new Headers([['Authorization', v.replace(/response="(\w+)"/, (_m, r: string) => `response="${r.toUpperCase()}"`)]]);
  assert.is(s.verify({ ...good, headers: upper }, lookup).result, 'ok');
});

test('Proxy-Authorization is read too', () => {
  const s = createDigestServer({ realm: REALM, clock: new FakeClock() });
  const inv: SipRequest = { kind: 'request', method: 'INVITE', uri: 'sip:202@surgery.example', headers: new Headers(), body: Buffer.alloc(0) };
  const signed = authorize(inv, s.challenge({ proxy: true }), '201', 'secret201', { status: 407 });
  assert.ok(signed.headers.has('Proxy-Authorization'));
  assert.equal(s.verify(signed, lookup), { result: 'ok', username: '201' });
});

test.run();
