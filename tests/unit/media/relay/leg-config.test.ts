import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { legConfigFromSdp } from '../../../../firmware/src/media/relay/leg-config.js';
import { codecId, codecName } from '../../../../firmware/src/media/relay/codec-ids.js';
import { parseSdp } from '../../../../firmware/src/media/sdp/sdp-parse.js';

const sdp = (c: string, m: string, extra = ''): ReturnType<typeof parseSdp> =>
  parseSdp(`v=0\r\no=- 1 1 IN IP4 ${c}\r\ns=-\r\nc=IN IP4 ${c}\r\nt=0 0\r\nm=audio ${m}\r\n${extra}`);

const PCMA = codecId({ name: 'PCMA', clockRate: 8000, channels: 1 });
const TE = codecId({ name: 'telephone-event', clockRate: 8000, channels: 1 });

test('payload types per direction, primary codec, remote endpoint', () => {
  const local = sdp('10.0.0.1', '20000 RTP/AVP 8 101', 'a=rtpmap:101 telephone-event/8000\r\n');
  const remote = sdp('192.168.1.5', '4000 RTP/AVP 8 0 96', 'a=rtpmap:96 telephone-event/8000\r\n');
  const c = legConfigFromSdp({ local, remote });
  assert.is(c.rxPt[8], PCMA);
  assert.is(c.rxPt[101], TE, 'the leg sends with our numbers');
  assert.is(c.rxPt[96], TE, 'and, leniently, with its own');
  assert.is(c.rxPt[18], -1);
  assert.is(c.txPt.get(TE), 96, 'we send with its numbers');
  assert.is(codecName(c.txPrimary!.id), 'PCMA', 'first remote audio codec that we also listed');
  assert.equal(c.remote, { address: '192.168.1.5', port: 4000, rtcpAddress: '192.168.1.5', rtcpPort: 4001 });
  assert.equal(c.flow, { toLeg: true, fromLeg: true });
});

test('only codecs both SDPs list are sent to the leg', () => {
  const offer = sdp('192.168.1.5', '4000 RTP/AVP 8 9 0');
  const answer = sdp('10.0.0.1', '20000 RTP/AVP 9');
  const c = legConfigFromSdp({ local: answer, remote: offer });
  assert.equal([...c.txPt.keys()].map(codecName), ['G722']);
  assert.is(c.rxPt[8], PCMA, 'but the leg may still be heard in PCMA');
  assert.is(codecName(c.txPrimary!.id), 'G722');
});

test('directions combine both SDPs; legacy hold has no destination; rejected stream has no flow', () => {
  const remoteHold = sdp('0.0.0.0', '4000 RTP/AVP 8');
  const local = sdp('10.0.0.1', '20000 RTP/AVP 8', 'a=recvonly\r\n');
  const c = legConfigFromSdp({ local, remote: remoteHold });
  assert.is(c.remote, null);
  assert.equal(c.flow, { toLeg: false, fromLeg: true });
  const inactive = legConfigFromSdp({ local: sdp('10.0.0.1', '20000 RTP/AVP 8', 'a=inactive\r\n'), remote: sdp('10.0.0.2', '4000 RTP/AVP 8') });
  assert.equal(inactive.flow, { toLeg: false, fromLeg: false });
  const rejected = legConfigFromSdp({ local: sdp('10.0.0.1', '0 RTP/AVP 8'), remote: sdp('10.0.0.2', '4000 RTP/AVP 8') });
  assert.equal(rejected.flow, { toLeg: false, fromLeg: false });
  const onlyRemote = legConfigFromSdp({ remote: sdp('10.0.0.2', '4000 RTP/AVP 0') });
  assert.equal(onlyRemote.flow, { toLeg: true, fromLeg: true });
  assert.is(codecName(onlyRemote.txPrimary!.id), 'PCMU');
});

test.run();
