import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSdp } from '../../../../firmware/src/media/sdp/sdp-parse.js';
import { serializeSdp } from '../../../../firmware/src/media/sdp/sdp-serialize.js';
import { buildOffer, negotiateAnswer, readAnswer, relayOffer } from '../../../../firmware/src/media/sdp/sdp-negotiate.js';
import { getCodecs, getTelephoneEvent } from '../../../../firmware/src/media/sdp/sdp-codecs.js';
import { getDirection } from '../../../../firmware/src/media/sdp/sdp-direction.js';
import { remoteEndpoint } from '../../../../firmware/src/media/sdp/sdp-connection.js';
import { SdpOriginator } from '../../../../firmware/src/media/sdp/sdp-origin.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';

const OFFER = parseSdp(
  [
    'v=0',
    'o=alice 2890844526 2890844526 IN IP4 192.168.1.50',
    's=-',
    'c=IN IP4 192.168.1.50',
    't=0 0',
    'm=video 51372 RTP/AVP 31',
    'm=audio 49170 RTP/AVP 0 8 9 96 100',
    'a=rtpmap:96 opus/48000/2',
    'a=rtpmap:100 telephone-event/8000',
    'a=fmtp:100 0-15',
    'a=candidate:1 1 UDP 2130706431 192.168.1.50 49170 typ host',
    'a=x-phone-specific:yes',
    'm=audio 49180 RTP/AVP 0',
    '',
  ].join('\r\n'),
);

test('answer: same m= count and order, others rejected with port 0, supported preference, offerer PTs, telephone-event', () => {
  const r = negotiateAnswer({ offer: OFFER, supported: ['PCMA', 'PCMU', 'G722'], localAddress: '192.168.1.1', localPort: 20000 });
  const a = r.answer;
  assert.is(r.mediaIndex, 1);
  assert.is(a.media.length, 3);
  assert.equal(a.media.map((m) => [m.type, m.port]), [['video', 0], ['audio', 20000], ['audio', 0]]);
  assert.is(r.codec.name, 'PCMA');
  assert.is(r.codec.pt, 8);
  assert.equal(a.media[1]!.formats, ['8', '100']);
  assert.equal(getTelephoneEvent(a.media[1]!), { pt: 100, name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-15' });
  assert.is(getDirection(a, 1), 'sendrecv');
  assert.equal(remoteEndpoint(a, 1), { address: '192.168.1.1', port: 20000, rtcpAddress: '192.168.1.1', rtcpPort: 20001 });
  assert.equal(r.remote, { address: '192.168.1.50', port: 49170, rtcpAddress: '192.168.1.50', rtcpPort: 49171 });
  const text = serializeSdp(a);
  assert.not.ok(text.includes('candidate'));
  assert.ok(text.startsWith('v=0\r\no=pgw '));
  assert.ok(text.includes('\r\nt=0 0\r\n'));
  // and it parses back
  assert.equal(parseSdp(text), a);
});

test('answer picks by our preference order, not the offerer order', () => {
  const r = negotiateAnswer({ offer: OFFER, supported: ['G722', 'PCMU'], localAddress: '10.0.0.1', localPort: 30000 });
  assert.is(r.codec.name, 'G722');
  assert.is(r.codec.pt, 9);
});

test('dynamic PT numbers of the offerer are kept in the answer', () => {
  const offer = parseSdp('v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 118 8 97\r\na=rtpmap:118 opus/48000/2\r\na=rtpmap:97 telephone-event/8000\r\n');
  const r = negotiateAnswer({ offer, supported: ['opus', 'PCMA'], localAddress: '10.0.0.1', localPort: 4000, ptime: 20 });
  assert.equal(r.answer.media[0]!.formats, ['118', '97']);
  assert.equal(getCodecs(r.answer.media[0]!).map((c) => `${c.pt} ${c.name}/${c.clockRate}/${c.channels}`), ['118 opus/48000/2', '97 telephone-event/8000/1']);
  assert.ok(serializeSdp(r.answer).includes('a=ptime:20'));
});

test('telephone-event can be refused; absent when not offered', () => {
  const r = negotiateAnswer({ offer: OFFER, supported: ['PCMU'], localAddress: '10.0.0.1', localPort: 4000, dtmfPt: false });
  assert.equal(r.answer.media[1]!.formats, ['0']);
  assert.is(r.telephoneEvent, null);
  const plain = parseSdp('v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n');
  assert.is(negotiateAnswer({ offer: plain, supported: ['PCMU'], localAddress: '10.0.0.1', localPort: 4000 }).telephoneEvent, null);
});

test('answer direction: hold offers are answered within RFC 3264 §6.1', () => {
  const hold = parseSdp('v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n');
  const r = negotiateAnswer({ offer: hold, supported: ['PCMA'], localAddress: '10.0.0.1', localPort: 4000 });
  assert.is(r.direction, 'recvonly');
  assert.is(getDirection(r.answer, 0), 'recvonly');
  const inactive = parseSdp('v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=inactive\r\n');
  assert.is(negotiateAnswer({ offer: inactive, supported: ['PCMA'], localAddress: '10.0.0.1', localPort: 4000 }).direction, 'inactive');
  const mapped = negotiateAnswer({ offer: parseSdp(serializeSdp(OFFER)), supported: ['PCMA'], localAddress: '10.0.0.1', localPort: 4000, direction: 'recvonly' });
  assert.is(mapped.direction, 'recvonly');
});

function negotiationFails(fn: () => unknown, why: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_SDP_NEGOTIATION'), `${why}: ${String(e)}`);
    return;
  }
  assert.unreachable(why);
}

test('no common codec or no audio → PGW_E_SDP_NEGOTIATION', () => {
  negotiationFails(() => negotiateAnswer({ offer: OFFER, supported: ['G729'], localAddress: '10.0.0.1', localPort: 4000 }), 'no common codec');
  const video = parseSdp('v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\nm=audio 4002 RTP/SAVP 0\r\n');
  negotiationFails(() => negotiateAnswer({ offer: video, supported: ['PCMU'], localAddress: '10.0.0.1', localPort: 4000 }), 'no plain audio');
});

test('buildOffer: static PTs, dynamic from 96 skipping the DTMF PT, rtpmap for all, direction', () => {
  const o = buildOffer({ localAddress: '10.0.0.1', localPort: 20000, codecs: ['PCMA', 'PCMU', 'G722', 'opus/48000', 'L16/16000'], dtmfPt: 96, direction: 'sendonly', ptime: 20 });
  const m = o.media[0]!;
  assert.equal(m.formats, ['8', '0', '9', '97', '98', '96']);
  assert.equal(getCodecs(m).map((c) => `${c.name}/${c.clockRate}`), ['PCMA/8000', 'PCMU/8000', 'G722/8000', 'opus/48000', 'L16/16000', 'telephone-event/8000']);
  assert.is(getDirection(o, 0), 'sendonly');
  assert.ok(serializeSdp(o).includes('a=fmtp:96 0-16\r\n'));
  assert.equal(remoteEndpoint(o, 0)!.port, 20000);
  assert.is(buildOffer({ localAddress: '10.0.0.1', localPort: 1, codecs: ['PCMU'], dtmfPt: false }).media[0]!.formats.length, 1);
  negotiationFails(() => buildOffer({ localAddress: '10.0.0.1', localPort: 1, codecs: [] }), 'no codecs');
  negotiationFails(() => buildOffer({ localAddress: '10.0.0.1', localPort: 1, codecs: ['PCMU'], dtmfPt: 0 }), 'dtmf PT clash');
});

test('relayOffer: A codecs/PTs and unknown attributes kept, our address, no ICE, one audio m-line', () => {
  const r = relayOffer({ from: OFFER, localAddress: '10.9.9.1', localPort: 30000, supported: ['PCMA', 'PCMU', 'G722'] });
  assert.is(r.sourceIndex, 1);
  const o = r.offer;
  assert.is(o.media.length, 1);
  assert.equal(o.media[0]!.formats, ['0', '8', '9', '100']);
  assert.equal(getCodecs(o.media[0]!).map((c) => c.name), ['PCMU', 'PCMA', 'G722', 'telephone-event']);
  const text = serializeSdp(o);
  assert.ok(text.includes('a=x-phone-specific:yes'));
  assert.ok(text.includes('a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\n'));
  assert.not.ok(text.includes('candidate'));
  assert.not.ok(text.includes('opus'));
  assert.equal(remoteEndpoint(o, 0), { address: '10.9.9.1', port: 30000, rtcpAddress: '10.9.9.1', rtcpPort: 30001 });
  assert.is(getDirection(o, 0), 'sendrecv');
  const all = relayOffer({ from: OFFER, localAddress: '10.9.9.1', localPort: 30000, dtmf: false });
  assert.equal(all.offer.media[0]!.formats, ['0', '8', '9', '96']);
});

test('relayOffer hides the offerer: no a=ssrc, ssrc-group, msid, mid, group or tool; other attributes stay', () => {
  const from = parseSdp(
    [
      'v=0',
      'o=- 1 1 IN IP4 192.168.1.50',
      's=-',
      'c=IN IP4 192.168.1.50',
      't=0 0',
      'a=tool:baresip 3.10.1',
      'a=group:BUNDLE 0',
      'a=msid-semantic: WMS *',
      'm=audio 49170 RTP/AVP 8',
      'a=rtpmap:8 PCMA/8000',
      'a=mid:0',
      'a=ssrc:1111 cname:alice@example',
      'a=ssrc-group:FID 1111 2222',
      'a=msid:stream track',
      'a=ptime:20',
      '',
    ].join('\r\n'),
  );
  const text = serializeSdp(relayOffer({ from, localAddress: '10.9.9.1', localPort: 30000 }).offer);
  for (const gone of ['a=tool', 'a=group', 'a=msid', 'a=mid', 'a=ssrc', 'baresip', '1111']) assert.not.ok(text.includes(gone), `${gone} relayed:\n${text}`);
  assert.ok(text.includes('a=ptime:20'));
});

test('relayOffer maps hold: sendonly stays, inactive stays, c=0.0.0.0 becomes sendonly with our address', () => {
  const mk = (c: string, dir: string): ReturnType<typeof parseSdp> =>
    parseSdp(`v=0\r\no=- 1 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 ${c}\r\nt=0 0\r\n${dir ? `a=${dir}\r\n` : ''}m=audio 4000 RTP/AVP 8\r\n`);
  assert.is(getDirection(relayOffer({ from: mk('10.0.0.2', 'sendonly'), localAddress: '10.9.9.1', localPort: 30000 }).offer, 0), 'sendonly');
  assert.is(getDirection(relayOffer({ from: mk('10.0.0.2', 'inactive'), localAddress: '10.9.9.1', localPort: 30000 }).offer, 0), 'inactive');
  const legacy = relayOffer({ from: mk('0.0.0.0', ''), localAddress: '10.9.9.1', localPort: 30000 });
  assert.is(legacy.direction, 'sendonly');
  const text = serializeSdp(legacy.offer);
  assert.ok(text.includes('c=IN IP4 10.9.9.1'));
  assert.not.ok(text.includes('0.0.0.0'));
  assert.ok(text.includes('a=sendonly'));
  // Session-level direction is not duplicated at session level.
  assert.is(text.match(/a=sendonly/g)!.length, 1);
});

test('relayOffer versions with the leg originator', () => {
  const o = new SdpOriginator({ address: '10.9.9.1' });
  const a = relayOffer({ from: OFFER, localAddress: '10.9.9.1', localPort: 30000, originator: o }).offer;
  const b = relayOffer({ from: OFFER, localAddress: '10.9.9.1', localPort: 30002, originator: o }).offer;
  assert.is(a.origin.sessionId, b.origin.sessionId);
  assert.is(BigInt(b.origin.sessionVersion), BigInt(a.origin.sessionVersion) + 1n);
});

test('readAnswer checks m= count and codec, returns what B chose', () => {
  const offer = relayOffer({ from: OFFER, localAddress: '10.9.9.1', localPort: 30000, supported: ['PCMA', 'PCMU'] }).offer;
  const answer = parseSdp('v=0\r\no=bob 1 1 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nt=0 0\r\nm=audio 5000 RTP/AVP 8 100\r\na=rtpmap:100 telephone-event/8000\r\na=recvonly\r\n');
  const r = readAnswer({ offer, answer });
  assert.is(r.codec.name, 'PCMA');
  assert.is(r.telephoneEvent!.pt, 100);
  assert.is(r.direction, 'recvonly');
  assert.equal(r.remote, { address: '10.0.0.7', port: 5000, rtcpAddress: '10.0.0.7', rtcpPort: 5001 });
  const two = parseSdp(serializeSdp(answer) + 'm=video 0 RTP/AVP 96\r\n');
  negotiationFails(() => readAnswer({ offer, answer: two }), 'm= count');
  const rejected = parseSdp(serializeSdp(answer).replace('m=audio 5000', 'm=audio 0'));
  negotiationFails(() => readAnswer({ offer, answer: rejected }), 'rejected');
  const alien = parseSdp(serializeSdp(answer).replace('RTP/AVP 8 100', 'RTP/AVP 18 100'));
  negotiationFails(() => readAnswer({ offer, answer: alien }), 'codec not offered');
});

test.run();
