import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from '../../../../firmware/src/sip/message/parse.js';
import { serializeMessage } from '../../../../firmware/src/sip/message/serialize.js';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import type { SipMessage, SipRequest } from '../../../../firmware/src/sip/message/types.js';
import { fixtureNames, loadFixture } from '../../../fixtures/rfc4475/notation.js';

function parsed(data: Buffer | string): SipMessage {
  const r = parseMessage(typeof data === 'string' ? Buffer.from(data) : data);
  if (!r.ok) throw new Error(`should parse: ${r.error}`);
  return r.message;
}

/** What a message means: start line, header fields (Content-Length aside), body. */
function meaning(m: SipMessage): unknown {
  const start = m.kind === 'request' ? [m.method, m.uri] : [m.status, m.reason];
  const fields = m.headers.entries().filter((f) => f.name !== 'Content-Length').map((f) => [f.name, f.value]);
  return [m.kind, start, fields, m.body.toString('hex')];
}

function request(headers: [string, string][], body = ''): SipRequest {
  return { kind: 'request', method: 'MESSAGE', uri: 'sip:201@pbx', headers: new Headers(headers), body: Buffer.from(body) };
}

test('round trip parse → serialize → parse for every message RFC 4475 says is valid or acceptable', () => {
  let n = 0;
  for (const name of fixtureNames()) {
    const r = parseMessage(loadFixture(name));
    if (!r.ok) continue;
    const again = parsed(serializeMessage(r.message));
    assert.equal(meaning(again), meaning(r.message), name);
    // And serializing is then a fixed point.
    assert.equal(serializeMessage(again), serializeMessage(r.message), name);
    n++;
  }
  assert.ok(n >= 30, `only ${n} fixtures round-tripped`);
});

test('round trip of typical phone traffic', () => {
  for (const text of [
    'INVITE sip:202@pbx.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-1;rport\r\nMax-Forwards: 70\r\nFrom: "Reception" <sip:201@pbx.example.com>;tag=a1\r\nTo: <sip:202@pbx.example.com>\r\nCall-ID: c1@192.0.2.7\r\nCSeq: 1 INVITE\r\nContact: <sip:201@192.0.2.7:5060>\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\nContent-Type: application/sdp\r\nContent-Length: 13\r\n\r\nv=0\r\ns=call\r\n',
    'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-2;rport=5060;received=192.0.2.7\r\nFrom: <sip:201@pbx>;tag=x\r\nTo: <sip:201@pbx>;tag=y\r\nCall-ID: r1\r\nCSeq: 2 REGISTER\r\nWWW-Authenticate: Digest realm="pbx", nonce="abc", algorithm=SHA-256, qop="auth"\r\nContent-Length: 0\r\n\r\n',
  ]) {
    const m = parsed(text);
    assert.equal(meaning(parsed(serializeMessage(m))), meaning(m));
    assert.is(serializeMessage(m).toString(), text);
  }
});

test('Content-Length is always the body length: replaced in place, copies dropped, added when absent', () => {
  const m = request([['Via', 'SIP/2.0/UDP h'], ['Content-Length', '999'], ['CSeq', '1 MESSAGE'], ['l', '5']], 'héllo');
  assert.is(serializeMessage(m).toString(), 'MESSAGE sip:201@pbx SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 6\r\nCSeq: 1 MESSAGE\r\n\r\nhéllo');
  const n = request([['Via', 'SIP/2.0/UDP h']]);
  assert.is(serializeMessage(n).toString(), 'MESSAGE sip:201@pbx SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 0\r\n\r\n');
});

test('canonical names, empty values, responses', () => {
  const m = parsed('SIP/2.0 200 OK\r\nv: SIP/2.0/UDP h;branch=z9hG4bKa\r\nf: <sip:a@b>;tag=1\r\nt: <sip:a@b>\r\ni: x\r\ncseq: 1 OPTIONS\r\ns:\r\n\r\n');
  assert.is(
    serializeMessage(m).toString(),
    'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nSubject:\r\nContent-Length: 0\r\n\r\n',
  );
});

test('binary bodies are written byte for byte', () => {
  const m = parsed(loadFixture('mpart01'));
  const out = serializeMessage(m);
  assert.equal(out.subarray(out.length - m.body.length), m.body);
  assert.equal(parsed(out).body, m.body);
});

test('CR/LF inside a value cannot inject a header line', () => {
  const m = request([['Subject', 'hi\r\nX-Injected: 1'], ['Via', 'SIP/2.0/UDP h']]);
  m.method = 'MESSAGE';
  const text = serializeMessage(m).toString();
  assert.not.ok(text.includes('\r\nX-Injected'));
  assert.ok(text.includes('Subject: hi X-Injected: 1\r\n'));
  const r: SipMessage = { kind: 'response', status: 200, reason: 'OK\r\nEvil: 1', headers: new Headers(), body: Buffer.alloc(0) };
  assert.ok(serializeMessage(r).toString().startsWith('SIP/2.0 200 OK Evil: 1\r\n'));
});

test.run();
