import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createResponse,
  generateBranch,
  generateCallId,
  generateTag,
  reasonPhrase,
} from '../../../../firmware/src/sip/message/build.js';
import { isToken } from '../../../../firmware/src/sip/message/chars.js';
import { nameAddrTag } from '../../../../firmware/src/sip/message/name-addr.js';
import { parseMessage } from '../../../../firmware/src/sip/message/parse.js';
import { serializeMessage } from '../../../../firmware/src/sip/message/serialize.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import { isRfc3261Branch } from '../../../../firmware/src/sip/message/via.js';

function request(text: string): SipRequest {
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
  return r.message;
}

const INVITE = request(
  [
    'INVITE sip:202@pbx.example.com SIP/2.0',
    'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-p1, SIP/2.0/TCP edge.example.com;branch=z9hG4bK-e1',
    'Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-1;rport',
    'Max-Forwards: 68',
    'From: "Reception" <sip:201@pbx.example.com>;tag=a1',
    'To: <sip:202@pbx.example.com>',
    'Call-ID: c1@192.0.2.7',
    'CSeq: 7 INVITE',
    'Timestamp: 54.3',
    'Record-Route: <sip:proxy.example.com;lr>',
    'Contact: <sip:201@192.0.2.7>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

test('§8.2.6.2: Via (all, in order), From, To, Call-ID, CSeq copied; nothing else', () => {
  const r = createResponse(INVITE, 486);
  assert.is(r.kind, 'response');
  assert.is(r.status, 486);
  assert.is(r.reason, 'Busy Here');
  assert.equal(r.headers.getAll('Via'), INVITE.headers.getAll('Via'));
  assert.is(r.headers.get('From'), '"Reception" <sip:201@pbx.example.com>;tag=a1');
  assert.is(r.headers.get('To'), '<sip:202@pbx.example.com>');
  assert.is(r.headers.get('Call-ID'), 'c1@192.0.2.7');
  assert.is(r.headers.get('CSeq'), '7 INVITE');
  assert.not.ok(r.headers.has('Timestamp'));
  assert.not.ok(r.headers.has('Record-Route'));
  assert.not.ok(r.headers.has('Contact'));
  assert.not.ok(r.headers.has('Max-Forwards'));
  assert.is(r.headers.get('Content-Length'), '0');
  assert.is(r.body.length, 0);
});

test('To tag: added when asked and absent, never changed when present', () => {
  assert.is(nameAddrTag(createResponse(INVITE, 180, undefined, { toTag: 'uas1' }).headers.get('To')!), 'uas1');
  const inDialog = request(
    'BYE sip:201@192.0.2.7 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\nFrom: <sip:202@pbx>;tag=b\r\nTo: <sip:201@pbx>;tag=a\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n\r\n',
  );
  const r = createResponse(inDialog, 200, undefined, { toTag: 'other' });
  assert.is(r.headers.get('To'), '<sip:201@pbx>;tag=a');
  // addr-spec To: the tag becomes a header parameter.
  const plain = request('OPTIONS sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK3\r\nFrom: sip:a@b;tag=1\r\nTo: sip:pbx\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\n\r\n');
  assert.is(createResponse(plain, 200, undefined, { toTag: 't9' }).headers.get('To'), 'sip:pbx;tag=t9');
});

test('100 Trying copies Timestamp (§8.2.6.1)', () => {
  assert.is(createResponse(INVITE, 100).headers.get('Timestamp'), '54.3');
  assert.not.ok(createResponse(INVITE, 180).headers.has('Timestamp'));
});

test('reason, extra headers, body', () => {
  const sdp = Buffer.from('v=0\r\n');
  const r = createResponse(INVITE, 200, 'Fine', {
    toTag: 'x',
    headers: [
      ['Contact', '<sip:202@192.0.2.1>'],
      ['Record-Route', '<sip:proxy.example.com;lr>'],
    ],
    body: sdp,
    contentType: 'application/sdp',
  });
  assert.is(r.reason, 'Fine');
  assert.is(r.headers.get('Contact'), '<sip:202@192.0.2.1>');
  assert.is(r.headers.get('Content-Type'), 'application/sdp');
  assert.is(r.headers.get('Content-Length'), '5');
  assert.equal(r.body, sdp);
  const back = parseMessage(serializeMessage(r));
  assert.ok(back.ok);
  if (back.ok && back.message.kind === 'response') {
    assert.is(back.message.status, 200);
    assert.equal(back.message.body, sdp);
  }
});

test('reasonPhrase: RFC 3261 table, extensions, class fallback', () => {
  assert.is(reasonPhrase(100), 'Trying');
  assert.is(reasonPhrase(200), 'OK');
  assert.is(reasonPhrase(401), 'Unauthorized');
  assert.is(reasonPhrase(416), 'Unsupported URI Scheme');
  assert.is(reasonPhrase(420), 'Bad Extension');
  assert.is(reasonPhrase(422), 'Session Interval Too Small');
  assert.is(reasonPhrase(481), 'Call/Transaction Does Not Exist');
  assert.is(reasonPhrase(491), 'Request Pending');
  assert.is(reasonPhrase(505), 'Version Not Supported');
  assert.is(reasonPhrase(603), 'Decline');
  assert.is(reasonPhrase(299), 'OK');
  assert.is(reasonPhrase(499), 'Client Error');
  assert.is(reasonPhrase(699), 'Global Failure');
});

test('tags, branches and Call-IDs: token/word characters, short, unique', () => {
  const tags = new Set<string>();
  const branches = new Set<string>();
  const ids = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const t = generateTag();
    assert.ok(isToken(t) && t.length === 8, t);
    tags.add(t);
    const b = generateBranch();
    assert.ok(isRfc3261Branch(b) && isToken(b) && b.length === 19, b);
    branches.add(b);
    ids.add(generateCallId());
  }
  assert.is(tags.size, 5000);
  assert.is(branches.size, 5000);
  assert.is(ids.size, 5000);
  assert.match(generateCallId('192.0.2.1'), /^[A-Za-z0-9_-]{16}@192\.0\.2\.1$/);
});

test.run();
