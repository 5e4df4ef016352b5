import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSdp } from '../../../../firmware/src/media/sdp/sdp-parse.js';
import {
  getAudioCodecs,
  getCodecs,
  getPtime,
  getTelephoneEvent,
  keepPayloadTypes,
  setPtime,
  staticPayloadType,
  defaultClockRate,
} from '../../../../firmware/src/media/sdp/sdp-codecs.js';

const sdp = (m: string): ReturnType<typeof parseSdp> => parseSdp(`v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n${m}`);

test('static payload types without rtpmap (RFC 3551 table 4), G722 at 8000', () => {
  const m = sdp('m=audio 4000 RTP/AVP 0 8 9 13\r\n').media[0]!;
  assert.equal(
    getCodecs(m).map((c) => `${c.pt} ${c.name}/${c.clockRate}`),
    ['0 PCMU/8000', '8 PCMA/8000', '9 G722/8000', '13 CN/8000'],
  );
  assert.equal(getAudioCodecs(m).map((c) => c.name), ['PCMU', 'PCMA', 'G722']);
  assert.is(staticPayloadType('pcma'), 8);
  assert.is(staticPayloadType('G722'), 9);
  assert.is(staticPayloadType('opus'), null);
  assert.is(defaultClockRate('G722'), 8000);
});

test('rtpmap wins, dynamic PTs without rtpmap are skipped, fmtp attached, m= order kept', () => {
  const m = sdp(
    'm=audio 4000 RTP/AVP 96 8 97 101 120\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=rtpmap:8 PCMA/8000\r\na=ptime:30\r\n',
  ).media[0]!;
  const codecs = getCodecs(m);
  assert.equal(codecs.map((c) => c.pt), [96, 8, 101]);
  assert.equal(codecs[0], { pt: 96, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' });
  assert.equal(getTelephoneEvent(m), { pt: 101, name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' });
  assert.is(getPtime(m), 30);
  setPtime(m, 20);
  assert.is(getPtime(m), 20);
  setPtime(m, null);
  assert.is(getPtime(m), null);
});

test('telephone-event prefers the 8000 Hz one', () => {
  const m = sdp('m=audio 4000 RTP/AVP 9 100 101\r\na=rtpmap:100 telephone-event/48000\r\na=rtpmap:101 telephone-event/8000\r\n').media[0]!;
  assert.is(getTelephoneEvent(m)!.pt, 101);
  assert.is(getTelephoneEvent(sdp('m=audio 4000 RTP/AVP 0\r\n').media[0]!), null);
});

test('keepPayloadTypes filters formats and their rtpmap/fmtp, keeps other attributes in order', () => {
  const m = sdp('m=audio 4000 RTP/AVP 18 8 101\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\na=x-foo\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n').media[0]!;
  keepPayloadTypes(m, [8, 101]);
  assert.equal(m.formats, ['8', '101']);
  assert.equal(
    m.attributes.map((a) => a.name + (a.value ? ':' + a.value : '')),
    ['x-foo', 'rtpmap:8 PCMA/8000', 'rtpmap:101 telephone-event/8000', 'sendrecv'],
  );
});

test.run();
