import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage, parseVia } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import type { Endpoint, InboundMessage } from '../../../../firmware/src/sip/transport/api.js';
import { responseRoute } from '../../../../firmware/src/sip/transport/response-route.js';
import { readTopVia, stampReceived } from '../../../../firmware/src/sip/transport/via-stamp.js';
import { badRequestReason, whyUnanswerable } from '../../../../firmware/src/sip/transport/input-check.js';
import { rawRequest } from './socket-helpers.js';

function request(via: string, extraVia?: string): SipRequest {
  const r = parseMessage(Buffer.from(rawRequest({ via: extraVia ? `${via}, ${extraVia}` : via })));
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture does not parse');
  return r.message;
}

const src = (protocol: Endpoint['protocol'], address: string, port: number): Endpoint => ({ protocol, address, port });
const local: Endpoint = { protocol: 'udp', address: '192.0.2.1', port: 5060 };

function inbound(req: SipRequest, source: Endpoint, connectionId?: string): InboundMessage {
  return connectionId ? { message: req, source, local, connectionId } : { message: req, source, local };
}

test('stamp: received added when the Via host differs from the source', () => {
  const req = request('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa');
  const via = stampReceived(req, readTopVia(req)!, src('udp', '203.0.113.9', 41000));
  assert.is(via.params.get('received'), '203.0.113.9');
  assert.not.ok(via.params.has('rport'));
  assert.is(req.headers.get('Via'), 'SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;received=203.0.113.9');
});

test('stamp: nothing added when the host matches and there is no rport', () => {
  const req = request('SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bKa');
  stampReceived(req, readTopVia(req)!, src('udp', '203.0.113.9', 5060));
  assert.is(req.headers.get('Via'), 'SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bKa');
});

test('stamp: empty rport is filled and received always added (RFC 3581 §4)', () => {
  const req = request('SIP/2.0/UDP 203.0.113.9:5060;rport;branch=z9hG4bKa');
  const via = stampReceived(req, readTopVia(req)!, src('udp', '203.0.113.9', 41000));
  assert.is(via.params.get('rport'), '41000');
  assert.is(via.params.get('received'), '203.0.113.9');
  assert.is(req.headers.get('Via'), 'SIP/2.0/UDP 203.0.113.9:5060;rport=41000;branch=z9hG4bKa;received=203.0.113.9');
});

test('stamp: only the top value of a comma-joined Via line changes; IPv6 host compared without brackets', () => {
  const req = request('SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKa', 'SIP/2.0/UDP 10.1.1.1;branch=z9hG4bKb');
  stampReceived(req, readTopVia(req)!, src('udp', '2001:db8::9', 5060));
  assert.is(req.headers.get('Via'), 'SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKa, SIP/2.0/UDP 10.1.1.1;branch=z9hG4bKb');
  const req2 = request('SIP/2.0/UDP host.example;branch=z9hG4bKa', 'SIP/2.0/UDP 10.1.1.1;branch=z9hG4bKb');
  stampReceived(req2, readTopVia(req2)!, src('udp', '198.51.100.1', 5060));
  assert.is(req2.headers.get('Via'), 'SIP/2.0/UDP host.example;branch=z9hG4bKa;received=198.51.100.1, SIP/2.0/UDP 10.1.1.1;branch=z9hG4bKb');
});

test('route: UDP with rport goes to received:rport from the arrival socket', () => {
  const via = parseVia('SIP/2.0/UDP 10.0.0.5:5060;rport=41000;received=203.0.113.9;branch=z9hG4bKa');
  const r = responseRoute(via, inbound(request('SIP/2.0/UDP 10.0.0.5'), src('udp', '203.0.113.9', 41000)));
  assert.equal(r.destination, { protocol: 'udp', address: '203.0.113.9', port: 41000 });
  assert.equal(r.options.local, local);
});

test('route: UDP with received but no rport goes to received at the sent-by port', () => {
  const via = parseVia('SIP/2.0/UDP 10.0.0.5:5070;received=203.0.113.9;branch=z9hG4bKa');
  const r = responseRoute(via, inbound(request('SIP/2.0/UDP 10.0.0.5'), src('udp', '203.0.113.9', 41000)));
  assert.equal(r.destination, { protocol: 'udp', address: '203.0.113.9', port: 5070 });
});

test('route: UDP without received goes to sent-by (default port 5060)', () => {
  const via = parseVia('SIP/2.0/UDP 203.0.113.9;branch=z9hG4bKa');
  const r = responseRoute(via, inbound(request('SIP/2.0/UDP 10.0.0.5'), src('udp', '203.0.113.9', 41000)));
  assert.equal(r.destination, { protocol: 'udp', address: '203.0.113.9', port: 5060 });
});

test('route: maddr wins on UDP', () => {
  const via = parseVia('SIP/2.0/UDP 10.0.0.5:5070;maddr=239.1.1.1;branch=z9hG4bKa');
  const r = responseRoute(via, inbound(request('SIP/2.0/UDP 10.0.0.5'), src('udp', '10.0.0.5', 5070)));
  assert.equal(r.destination, { protocol: 'udp', address: '239.1.1.1', port: 5070 });
});

test('route: TCP uses the arrival connection, falling back to received and the sent-by port', () => {
  const via = parseVia('SIP/2.0/TCP 10.0.0.5:5062;received=203.0.113.9;branch=z9hG4bKa');
  const r = responseRoute(via, inbound(request('SIP/2.0/TCP 10.0.0.5'), src('tcp', '203.0.113.9', 50123), 'tcp-7'));
  assert.equal(r.destination, { protocol: 'tcp', address: '203.0.113.9', port: 5062 });
  assert.is(r.options.connectionId, 'tcp-7');
  const tls = responseRoute(parseVia('SIP/2.0/TLS 203.0.113.9;branch=z9hG4bKa'), inbound(request('SIP/2.0/TLS 10.0.0.5'), src('tls', '203.0.113.9', 50123), 'tls-1'));
  assert.equal(tls.destination, { protocol: 'tls', address: '203.0.113.9', port: 5061 });
});

test('bad requests: answerable when Via and CSeq can be read, never ACK; reasons are one clean line', () => {
  const req = request('SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKa');
  assert.is(whyUnanswerable(req), undefined);
  assert.match(whyUnanswerable({ ...req, method: 'ACK' })!, /ACK/);
  const noVia = { ...req, headers: req.headers.clone().delete('Via') };
  assert.match(whyUnanswerable(noVia)!, /Via/);
  const badCseq = { ...req, headers: req.headers.clone().set('CSeq', 'x') };
  assert.match(whyUnanswerable(badCseq)!, /CSeq/);
  const noCallId = { ...req, headers: req.headers.clone().delete('Call-ID') };
  assert.match(whyUnanswerable(noCallId)!, /Call-ID/);
  assert.is(badRequestReason('missing Call-ID\r\nX-Injected: 1'), 'Bad Request (missing Call-ID X-Injected: 1)');
  assert.is(badRequestReason(''), 'Bad Request');
});

test.run();
