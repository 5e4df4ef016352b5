/** Frozen messages: serialized again they give the very bytes the original gave, and they keep nothing of it alive. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import { createResponse, serializeMessage } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';
import { detach, freezeRequest, freezeResponse } from '../../../../firmware/src/sip/transaction/frozen-message.js';
import { collected, heapUsedAfterGc } from './gc.js';
import { parse } from './fake-transport.js';

const REQUEST =
  'REGISTER sip:practice.test SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 192.0.2.50:5062;branch=z9hG4bK-fr1;rport=5062;received=192.0.2.50\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-inner\r\n' +
  'Max-Forwards: 70\r\n' +
  'From: "Réception 1" <sip:201@practice.test>;tag=ftag1\r\n' +
  'To: <sip:201@practice.test>\r\n' +
  'Call-ID: frozen-1@192.0.2.50\r\n' +
  'CSeq: 7 REGISTER\r\n' +
  'Content-Length: 0\r\n\r\n';

function awkwardResponse(): SipResponse {
  const request = parse(REQUEST) as SipRequest;
  const r = createResponse(request, 401, 'Unauthorized', {
    toTag: 'uas-tag-1234567890',
    headers: [
      ['WWW-Authenticate', 'Digest realm="practice.test", nonce="abc", algorithm=SHA-256, qop="auth"'],
      ['WWW-Authenticate', 'Digest realm="practice.test", nonce="abc", algorithm=MD5, qop="auth"'],
      ['X-Empty', ''],
      // The serializer turns CR/LF inside a value into a space: so must the frozen copy.
      ['X-Injected', 'one\r\ntwo\nthree'],
      ['Subject', ' leading and trailing spaces '],
      ['Content-Type', 'text/plain'],
    ],
    body: Buffer.from('retry later — ünïcode body\r\n', 'utf8'),
  });
  // A second Content-Length line: the serializer writes one, at the first's place.
  r.headers.append('Content-Length', '999');
  return r;
}

test('a frozen response serializes to the same bytes, with its status, reason, headers and body', () => {
  const original = awkwardResponse();
  const frozen = freezeResponse(original);
  assert.is(serializeMessage(frozen).toString('hex'), serializeMessage(original).toString('hex'));
  assert.is(frozen.kind, 'response');
  assert.is(frozen.status, 401);
  assert.is(frozen.reason, 'Unauthorized');
  assert.equal(frozen.headers.getAll('Via'), original.headers.getAll('Via'));
  assert.is(frozen.headers.get('X-Empty'), '');
  assert.ok(frozen.body.equals(original.body));
});

test('a frozen response is a snapshot: later changes to the original do not reach it', () => {
  const original = awkwardResponse();
  const bytes = serializeMessage(original);
  const frozen = freezeResponse(original);
  original.headers.set('To', '<sip:other@practice.test>;tag=changed');
  original.body.fill(0);
  assert.ok(serializeMessage(frozen).equals(bytes));
});

test('a frozen request (the ACK of a non-2xx) serializes to the same bytes', () => {
  const ack: SipRequest = {
    kind: 'request',
    method: 'ACK',
    uri: 'sip:202@192.0.2.50:5060;transport=udp',
    headers: new Headers([
      ['Via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-a1;rport'],
      ['Route', '<sip:proxy.test;lr>'],
      ['Route', '<sip:proxy2.test;lr>'],
      ['Max-Forwards', '70'],
      ['From', '<sip:201@practice.test>;tag=gw1'],
      ['To', '<sip:202@practice.test>;tag=far1'],
      ['Call-ID', 'out-1@192.0.2.1'],
      ['CSeq', '7 ACK'],
      ['Content-Length', '0'],
    ]),
    body: Buffer.alloc(0),
  };
  const frozen = freezeRequest(ack);
  assert.ok(serializeMessage(frozen).equals(serializeMessage(ack)));
  assert.is(frozen.kind, 'request');
  assert.is(frozen.method, 'ACK');
  assert.is(frozen.uri, ack.uri);
});

test('a response with no header at all freezes too', () => {
  const bare: SipResponse = { kind: 'response', status: 500, reason: 'Server Internal Error', headers: new Headers(), body: Buffer.alloc(0) };
  assert.ok(serializeMessage(freezeResponse(bare)).equals(serializeMessage(bare)));
});

test('the frozen copy keeps neither the response nor the request it was built from', async () => {
  let original: SipResponse | undefined = awkwardResponse();
  const ref = new WeakRef(original);
  const frozen = freezeResponse(original);
  original = undefined;
  assert.ok(await collected(ref), 'the original response was collected');
  // Still usable afterwards.
  assert.match(serializeMessage(frozen).toString('utf8'), /^SIP\/2\.0 401 Unauthorized\r\n/);
});

test('the check above can fail: a response still referenced is not collected', async () => {
  const original = awkwardResponse();
  const ref = new WeakRef(original);
  assert.not.ok(await collected(ref));
  assert.is(original.status, 401);
});

/** Heap kept by 40 short pieces of 40 different 256 KiB strings, each piece passed through `keep`. */
function keptBy(keep: (s: string) => string): number {
  const before = heapUsedAfterGc();
  const kept: string[] = [];
  for (let i = 0; i < 40; i++) {
    // A fresh flat string each time, as a datagram decoded by the parser is.
    const text = Buffer.alloc(256 * 1024, 97 + (i % 26)).toString('latin1');
    kept.push(keep(text.slice(1000, 1040)));
  }
  const after = heapUsedAfterGc();
  assert.is(kept.length, 40);
  return after - before;
}

test('detach copies a string without keeping the string it was sliced from', () => {
  const long = 'x'.repeat(100) + 'tag-value-123456' + 'y'.repeat(100);
  assert.is(detach(long.slice(100, 116)), 'tag-value-123456');
  assert.is(detach(''), '');
  // The control: a plain slice keeps its 256 KiB parent (V8 sliced strings), 10 MiB in all.
  assert.ok(keptBy((s) => s) > 8 * 1024 * 1024, 'a slice keeps its parent');
  assert.ok(keptBy(detach) < 1024 * 1024, 'a detached copy does not');
});

test('a frozen response keeps no slice of the text its header values came from', () => {
  const sliceResponse = (keep: (r: SipResponse) => unknown): number =>
    keptBy((piece) => {
      const r: SipResponse = { kind: 'response', status: 200, reason: 'OK', headers: new Headers([['Call-ID', piece], ['X-Other', piece.slice(2, 30)]]), body: Buffer.alloc(0) };
      return String(keep(r) ? piece.length : 0);
    });
  const kept: unknown[] = [];
  // Control: keeping the response object keeps every 256 KiB text.
  assert.ok(sliceResponse((r) => kept.push(r)) > 8 * 1024 * 1024);
  kept.length = 0;
  assert.ok(sliceResponse((r) => kept.push(freezeResponse(r))) < 1024 * 1024);
  assert.is(kept.length, 40);
});

test.run();
