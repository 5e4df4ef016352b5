import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDigest, parseAuthHeader } from '../../../../firmware/src/sip/auth/digest-params.js';

test('parses a challenge with quoted and token values', () => {
  const [c, ...rest] = parseAuthHeader('Digest realm="atlanta.com", nonce="84a4cc6f", qop="auth,auth-int", algorithm=SHA-256, stale=TRUE');
  assert.is(rest.length, 0);
  assert.is(c!.scheme, 'Digest');
  assert.is(c!.params.get('realm'), 'atlanta.com');
  assert.is(c!.params.get('qop'), 'auth,auth-int');
  assert.is(c!.params.get('algorithm'), 'SHA-256');
  assert.is(c!.params.get('stale'), 'TRUE');
});

test('parameter names are case-insensitive, quoted-pairs unescaped, folding tolerated', () => {
  const [c] = parseAuthHeader('digest  Realm="a \\"b\\" c",\r\n\tNONCE = "x,y"  ,opaque="o"');
  assert.is(c!.scheme, 'digest');
  assert.is(c!.params.get('realm'), 'a "b" c');
  assert.is(c!.params.get('nonce'), 'x,y');
  assert.is(c!.params.get('opaque'), 'o');
});

test('several challenges in one line', () => {
  const cs = parseAuthHeader('Digest realm="a", nonce="1", algorithm=SHA-256, Digest realm="a", nonce="2", Basic realm="b"');
  assert.equal(
    cs.map((c) => [c.scheme, c.params.get('nonce') ?? null]),
    [
      ['Digest', '1'],
      ['Digest', '2'],
      ['Basic', null],
    ],
  );
});

test('garbage gives nothing rather than throwing', () => {
  assert.equal(parseAuthHeader(''), []);
  assert.equal(parseAuthHeader('=== "'), []);
  assert.equal(parseAuthHeader('realm="x"'), []);
});

test('format quotes the right parameters; qop only in challenges', () => {
  assert.is(
    formatDigest([['realm', 'r'], ['nonce', 'n"x'], ['algorithm', 'MD5'], ['qop', 'auth']], 'challenge'),
    'Digest realm="r", nonce="n\\"x", algorithm=MD5, qop="auth"',
  );
  assert.is(formatDigest([['username', 'u'], ['qop', 'auth'], ['nc', '00000001']], 'credentials'), 'Digest username="u", qop=auth, nc=00000001');
});

test('round trip', () => {
  const s = formatDigest([['realm', 'a\\b'], ['nonce', 'n']], 'challenge');
  const [c] = parseAuthHeader(s);
  assert.is(c!.params.get('realm'), 'a\\b');
});

test.run();
