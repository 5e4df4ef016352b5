import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { answerChallenge } from '../../../../firmware/src/sip/auth/digest-client.js';
import { parseAuthHeader } from '../../../../firmware/src/sip/auth/digest-params.js';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import type { SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';

function req(method: string, uri: string): SipRequest {
  return { kind: 'request', method, uri, headers: new Headers(), body: Buffer.alloc(0) };
}
function resp(status: number, lines: [string, string][]): SipResponse {
  return { kind: 'response', status, reason: 'x', headers: new Headers(lines), body: Buffer.alloc(0) };
}
function params(value: string): Map<string, string> {
  return parseAuthHeader(value)[0]!.params;
}

const R7616 = {
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};

test('RFC 7616 §3.9.1: picks SHA-256 over MD5 and reproduces the response', () => {
  const r = resp(401, [
    ['WWW-Authenticate', `Digest realm="${R7616.realm}", qop="auth, auth-int", algorithm=MD5, nonce="${R7616.nonce}", opaque="${R7616.opaque}"`],
    ['WWW-Authenticate', `Digest realm="${R7616.realm}", qop="auth, auth-int", algorithm=SHA-256, nonce="${R7616.nonce}", opaque="${R7616.opaque}"`],
  ]);
  const [name, value] = answerChallenge({ response: r, request: req('GET', '/dir/index.html'), username: 'Mufasa', password: 'Circle of Life', cnonce: R7616.cnonce });
  assert.is(name, 'Authorization');
  const p = params(value);
  assert.is(p.get('algorithm'), 'SHA-256');
  assert.is(p.get('response'), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  assert.is(p.get('qop'), 'auth');
  assert.is(p.get('nc'), '00000001');
  assert.is(p.get('opaque'), R7616.opaque);
  assert.is(p.get('uri'), '/dir/index.html');
  assert.ok(/qop=auth,/.test(value), 'qop is a bare token in credentials');
});

test('RFC 7616 §3.9.1: MD5 only', () => {
  const r = resp(401, [['WWW-Authenticate', `Digest realm="${R7616.realm}", qop="auth", algorithm=MD5, nonce="${R7616.nonce}", opaque="${R7616.opaque}"`]]);
  const [, value] = answerChallenge({ response: r, request: req('GET', '/dir/index.html'), username: 'Mufasa', password: 'Circle of Life', cnonce: R7616.cnonce });
  assert.is(params(value).get('response'), '8ca523f5e9506fed4657c9700eebdbec');
});

test('RFC 2617 §3.5: no algorithm named means MD5, and none is echoed', () => {
  const r = resp(401, [
    ['WWW-Authenticate', 'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'],
  ]);
  const [, value] = answerChallenge({ response: r, request: req('GET', '/dir/index.html'), username: 'Mufasa', password: 'Circle Of Life', cnonce: '0a4f113b' });
  const p = params(value);
  assert.is(p.get('response'), '6629fae49393a05397450978507c4ef1');
  assert.is(p.get('algorithm'), undefined);
});

test('407 answers with Proxy-Authorization; no qop gives the RFC 2069 form', () => {
  const r = resp(407, [['Proxy-Authenticate', 'Digest realm="biloxi.com", nonce="abc"']]);
  const [name, value] = answerChallenge({ response: r, request: req('INVITE', 'sip:bob@biloxi.com'), username: 'bob', password: 'zanzibar' });
  assert.is(name, 'Proxy-Authorization');
  const p = params(value);
  assert.is(p.get('qop'), undefined);
  assert.is(p.get('nc'), undefined);
  assert.is(p.get('cnonce'), undefined);
  assert.is(p.get('response')!.length, 32);
});

test('nc is formatted as 8 hex digits and changes the response', () => {
  const r = resp(401, [['WWW-Authenticate', 'Digest realm="r", nonce="n", qop="auth"']]);
  const a = params(answerChallenge({ response: r, request: req('REGISTER', 'sip:r'), username: 'u', password: 'p', cnonce: 'c', nc: 1 })[1]);
  const b = params(answerChallenge({ response: r, request: req('REGISTER', 'sip:r'), username: 'u', password: 'p', cnonce: 'c', nc: 26 })[1]);
  assert.is(b.get('nc'), '0000001a');
  assert.is.not(a.get('response'), b.get('response'));
});

test('unsupported algorithms are skipped; none usable throws PGW_E_AUTH', () => {
  const r = resp(401, [
    ['WWW-Authenticate', 'Digest realm="r", nonce="n", algorithm=SHA-512-256'],
    ['WWW-Authenticate', 'Digest realm="r", nonce="n", algorithm=MD5'],
  ]);
  assert.is(params(answerChallenge({ response: r, request: req('REGISTER', 'sip:r'), username: 'u', password: 'p' })[1]).get('algorithm'), 'MD5');
  const bad = resp(401, [['WWW-Authenticate', 'Digest realm="r", nonce="n", algorithm=SHA-512-256']]);
  try {
    answerChallenge({ response: bad, request: req('REGISTER', 'sip:r'), username: 'u', password: 'p' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, 'PGW_E_AUTH');
  }
});

test.run();
