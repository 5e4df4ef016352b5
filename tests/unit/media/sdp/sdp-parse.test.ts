import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSdp } from '../../../../firmware/src/media/sdp/sdp-parse.js';
import { serializeSdp } from '../../../../firmware/src/media/sdp/sdp-serialize.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';

const PHONE = [
  'v=0',
  'o=yealink 1000 1001 IN IP4 192.168.1.50',
  's=SDP data',
  'i=a phone call',
  'c=IN IP4 192.168.1.50',
  'b=AS:84',
  't=0 0',
  'a=tool:phone-fw 1.2',
  'm=audio 11800 RTP/AVP 9 8 0 18 101',
  'i=audio',
  'b=TIAS:64000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=x-unknown-thing:42',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  '',
].join('\r\n');

test('parses a phone offer into fields', () => {
  const sdp = parseSdp(PHONE);
  assert.is(sdp.version, 0);
  assert.equal(sdp.origin, { username: 'yealink', sessionId: '1000', sessionVersion: '1001', netType: 'IN', addrType: 'IP4', address: '192.168.1.50' });
  assert.is(sdp.sessionName, 'SDP data');
  assert.equal(sdp.connection, { netType: 'IN', addrType: 'IP4', address: '192.168.1.50' });
  assert.is(sdp.media.length, 2);
  const a = sdp.media[0]!;
  assert.is(a.type, 'audio');
  assert.is(a.port, 11800);
  assert.is(a.proto, 'RTP/AVP');
  assert.equal(a.formats, ['9', '8', '0', '18', '101']);
  assert.equal(a.attributes.find((x) => x.name === 'x-unknown-thing'), { name: 'x-unknown-thing', value: '42' });
  assert.equal(a.attributes.at(-1), { name: 'sendrecv', value: null });
  assert.is(sdp.media[1]!.port, 0);
});

test('round-trips byte for byte, unknown lines and attribute order kept', () => {
  assert.is(serializeSdp(parseSdp(PHONE)), PHONE);
});

test('accepts LF line ends and blank lines; writes CRLF', () => {
  const lf = PHONE.replace(/\r\n/g, '\n').replace('t=0 0\n', 't=0 0\n\n');
  assert.is(serializeSdp(parseSdp(lf)), PHONE);
});

test('keeps RFC 4566 order when serializing an edited model', () => {
  const sdp = parseSdp('v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n');
  sdp.lines.unshift({ type: 'u', value: 'http://example.invalid/' });
  sdp.connection = { netType: 'IN', addrType: 'IP4', address: '10.0.0.2' };
  sdp.media[0]!.connection = { netType: 'IN', addrType: 'IP6', address: '::1' };
  sdp.media[0]!.lines.push({ type: 'b', value: 'AS:64' });
  const text = serializeSdp(sdp);
  assert.is(
    text,
    'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nu=http://example.invalid/\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP6 ::1\r\nb=AS:64\r\n',
  );
});

test('port with a count, property attributes, media-level connection', () => {
  const sdp = parseSdp('v=0\no=- 1 2 IN IP6 ::1\ns= \nt=0 0\nm=audio 5004/2 RTP/AVP 0\nc=IN IP6 fe80::1\na=recvonly\n');
  const m = sdp.media[0]!;
  assert.is(m.port, 5004);
  assert.is(m.portCount, 2);
  assert.equal(m.connection, { netType: 'IN', addrType: 'IP6', address: 'fe80::1' });
  assert.equal(m.attributes, [{ name: 'recvonly', value: null }]);
  assert.is(sdp.sessionName, ' ');
  assert.ok(serializeSdp(sdp).includes('m=audio 5004/2 RTP/AVP 0\r\n'));
});

test('tolerates a missing s= line', () => {
  const sdp = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n');
  assert.is(sdp.sessionName, '-');
  assert.is(sdp.media.length, 1);
});

function rejects(text: string, why: string): void {
  try {
    parseSdp(text);
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_SDP_PARSE'), `${why}: wrong error ${String(e)}`);
    return;
  }
  assert.unreachable(`${why}: accepted`);
}

test('rejects malformed SDP with PGW_E_SDP_PARSE', () => {
  rejects('', 'empty');
  rejects('o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n', 'v= not first');
  rejects('v=0\r\ns=-\r\n', 'no o=');
  rejects('v=0\r\no=- 1 IN IP4 1.2.3.4\r\ns=-\r\n', 'short o=');
  rejects('v=0\r\no=- x 1 IN IP4 1.2.3.4\r\ns=-\r\n', 'non-numeric session id');
  rejects('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4\r\n', 'short c=');
  rejects('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IPX 1.2.3.4\r\n', 'bad addrtype');
  rejects('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio abc RTP/AVP 0\r\n', 'bad port');
  rejects('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 70000 RTP/AVP 0\r\n', 'port too big');
  rejects('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio\r\n', 'short m=');
  rejects('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nthis is not sdp\r\n', 'garbage line');
  rejects('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nv=0\r\n', 'duplicate v=');
  rejects('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n' + 'a=x\r\n'.repeat(20_000), 'too large');
});

test.run();
