import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from '../../../../firmware/src/sip/message/parse.js';
import {
  acceptsContentType,
  maxForwards,
  mediaType,
  validateRequest,
  validateResponse,
} from '../../../../firmware/src/sip/message/validate.js';
import type { SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';

function request(method: string, uri: string, extra: string[] = [], body = ''): SipRequest {
  const text = [
    `${method} ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-1;rport',
    'Max-Forwards: 70',
    'From: <sip:201@pbx.example.com>;tag=a1',
    'To: <sip:201@pbx.example.com>',
    'Call-ID: v1@192.0.2.7',
    `CSeq: 1 ${method}`,
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error(`bad fixture: ${r.ok ? 'response' : r.error}`);
  return r.message;
}

test('a well-formed REGISTER passes', () => {
  assert.is(validateRequest(request('REGISTER', 'sip:pbx.example.com', ['Contact: <sip:201@192.0.2.7>;expires=60'])), null);
  assert.is(validateRequest(request('INVITE', 'tel:+441234567890')), null);
  assert.is(validateRequest(request('OPTIONS', 'sips:pbx.example.com')), null);
});

test('416 for Request-URI schemes the element does not serve', () => {
  assert.is(validateRequest(request('OPTIONS', 'urn:service:sos'))?.status, 416);
  assert.is(validateRequest(request('OPTIONS', 'tel:123'), { schemes: ['sip'] })?.status, 416);
});

test('400 for headers in the Request-URI', () => {
  assert.is(validateRequest(request('INVITE', 'sip:202@pbx?Subject=x'))?.status, 400);
});

test('400 for a Contact that does not parse; wildcard only in REGISTER, alone, with Expires: 0', () => {
  assert.is(validateRequest(request('INVITE', 'sip:202@pbx', ['Contact: <sip:201@192.0.2.7']))?.status, 400);
  assert.is(validateRequest(request('REGISTER', 'sip:pbx', ['Contact: *', 'Expires: 0'])), null);
  assert.is(validateRequest(request('REGISTER', 'sip:pbx', ['Contact: *', 'Expires: 60']))?.status, 400);
  assert.is(validateRequest(request('REGISTER', 'sip:pbx', ['Contact: *']))?.status, 400);
  assert.is(validateRequest(request('REGISTER', 'sip:pbx', ['Contact: *, <sip:a@b>', 'Expires: 0']))?.status, 400);
  assert.is(validateRequest(request('INVITE', 'sip:202@pbx', ['Contact: *', 'Expires: 0']))?.status, 400);
});

test('420 lists the unsupported Require tags; CANCEL and ACK ignore Require', () => {
  const r = request('INVITE', 'sip:202@pbx', ['Require: 100rel, timer', 'Require: foo']);
  assert.equal(validateRequest(r), { status: 420, detail: 'unsupported extension required', unsupported: ['100rel', 'timer', 'foo'] });
  assert.equal(validateRequest(r, { supported: ['100rel', 'TIMER'] })?.unsupported, ['foo']);
  assert.is(validateRequest(r, { supported: ['100rel', 'timer', 'foo'] }), null);
  assert.is(validateRequest(request('CANCEL', 'sip:202@pbx', ['Require: foo'])), null);
});

test('415 only when body types are given', () => {
  const r = request('INVITE', 'sip:202@pbx', ['Content-Type: Application/SDP; charset=utf-8'], 'v=0\r\n');
  assert.is(validateRequest(r), null);
  assert.is(validateRequest(r, { contentTypes: ['application/sdp'] }), null);
  assert.is(validateRequest(r, { contentTypes: ['text/plain'] })?.status, 415);
  assert.is(validateRequest(request('INVITE', 'sip:202@pbx'), { contentTypes: ['text/plain'] }), null);
  assert.is(mediaType(' multipart/mixed ;boundary=x'), 'multipart/mixed');
});

test('acceptsContentType: defaults, ranges, q=0', () => {
  assert.ok(acceptsContentType(request('INVITE', 'sip:x'), 'application/sdp'));
  assert.not.ok(acceptsContentType(request('MESSAGE', 'sip:x'), 'application/sdp'));
  assert.ok(acceptsContentType(request('INVITE', 'sip:x', ['Accept: text/plain, application/*']), 'application/sdp'));
  assert.ok(acceptsContentType(request('INVITE', 'sip:x', ['Accept: */*']), 'application/sdp'));
  assert.not.ok(acceptsContentType(request('INVITE', 'sip:x', ['Accept: application/sdp;q=0']), 'application/sdp'));
  assert.ok(acceptsContentType(request('INVITE', 'sip:x', ['Accept: application/sdp;q=0.5']), 'application/sdp'));
  assert.not.ok(acceptsContentType(request('INVITE', 'sip:x', ['Accept: text/nobodyKnowsThis']), 'application/sdp'));
});

test('maxForwards', () => {
  assert.is(maxForwards(request('OPTIONS', 'sip:x')), 70);
  const r = request('OPTIONS', 'sip:x');
  r.headers.delete('Max-Forwards');
  assert.is(maxForwards(r), undefined);
  r.headers.set('Max-Forwards', '0');
  assert.is(maxForwards(r), 0);
});

test('validateResponse: exactly one Via (§8.1.3.3)', () => {
  const text = (vias: string) =>
    `SIP/2.0 200 OK\r\n${vias}From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n`;
  const one = parseMessage(Buffer.from(text('Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n')));
  const two = parseMessage(Buffer.from(text('Via: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP g\r\n')));
  assert.ok(one.ok && two.ok);
  if (one.ok && two.ok) {
    assert.is(validateResponse(one.message as SipResponse), null);
    assert.type(validateResponse(two.message as SipResponse), 'string');
  }
});

test.run();
