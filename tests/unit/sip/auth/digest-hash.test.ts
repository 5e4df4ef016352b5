import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { computeDigestResponse, computeHa1, constantTimeEqual, normalizeAlgorithm } from '../../../../firmware/src/sip/auth/digest-hash.js';

// RFC 2617 §3.5: GET /dir/index.html, user Mufasa, password "Circle Of Life".
test('RFC 2617 §3.5 example (MD5, qop=auth)', () => {
  const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
  const r = computeDigestResponse({
    algorithm: 'MD5',
    ha1,
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    method: 'GET',
    uri: '/dir/index.html',
    qop: 'auth',
    nc: '00000001',
    cnonce: '0a4f113b',
  });
  assert.is(r, '6629fae49393a05397450978507c4ef1');
});

// RFC 7616 §3.9.1: the same request with SHA-256 and MD5 (password "Circle of Life").
const rfc7616 = {
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  realm: 'http-auth@example.org',
};

test('RFC 7616 §3.9.1 example, SHA-256', () => {
  const ha1 = computeHa1('SHA-256', 'Mufasa', rfc7616.realm, 'Circle of Life');
  const r = computeDigestResponse({
    algorithm: 'SHA-256',
    ha1,
    nonce: rfc7616.nonce,
    method: 'GET',
    uri: '/dir/index.html',
    qop: 'auth',
    nc: '00000001',
    cnonce: rfc7616.cnonce,
  });
  assert.is(r, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

test('RFC 7616 §3.9.1 example, MD5', () => {
  const ha1 = computeHa1('MD5', 'Mufasa', rfc7616.realm, 'Circle of Life');
  const r = computeDigestResponse({
    algorithm: 'MD5',
    ha1,
    nonce: rfc7616.nonce,
    method: 'GET',
    uri: '/dir/index.html',
    qop: 'auth',
    nc: '00000001',
    cnonce: rfc7616.cnonce,
  });
  assert.is(r, '8ca523f5e9506fed4657c9700eebdbec');
});

test('RFC 2069 form (no qop) is H(HA1:nonce:HA2)', () => {
  const ha1 = computeHa1('MD5', 'u', 'r', 'p');
  const r = computeDigestResponse({ algorithm: 'MD5', ha1, nonce: 'n', method: 'REGISTER', uri: 'sip:r' });
  // Recomputed by hand with node:crypto, independently of the module.
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  assert.is(r, md5(`${md5('u:r:p')}:n:${md5('REGISTER:sip:r')}`));
});

test('-sess forms fold nonce and cnonce into HA1', () => {
  const ha1 = computeHa1('SHA-256', 'u', 'r', 'p');
  const plain = computeDigestResponse({ algorithm: 'SHA-256', ha1, nonce: 'n', method: 'INVITE', uri: 'sip:x', qop: 'auth', nc: '00000001', cnonce: 'c' });
  const sess = computeDigestResponse({ algorithm: 'SHA-256-sess', ha1, nonce: 'n', method: 'INVITE', uri: 'sip:x', qop: 'auth', nc: '00000001', cnonce: 'c' });
  assert.is.not(plain, sess);
  assert.is(sess.length, 64);
});

test('algorithm names: absent is MD5, case-insensitive, unknown undefined', () => {
  assert.is(normalizeAlgorithm(undefined), 'MD5');
  assert.is(normalizeAlgorithm('sha-256'), 'SHA-256');
  assert.is(normalizeAlgorithm('md5-SESS'), 'MD5-sess');
  assert.is(normalizeAlgorithm('SHA-512-256'), undefined);
});

test('constantTimeEqual', () => {
  assert.ok(constantTimeEqual('abc', 'abc'));
  assert.not.ok(constantTimeEqual('abc', 'abd'));
  assert.not.ok(constantTimeEqual('abc', 'abcd'));
});

test.run();
