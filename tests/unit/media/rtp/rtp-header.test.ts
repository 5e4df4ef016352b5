import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildRtp,
  parseRtp,
  rtpPayloadOffset,
  seqDelta,
  setRtpMarker,
  setRtpPayloadType,
  setRtpSequence,
  setRtpSsrc,
  setRtpTimestamp,
  tsDelta,
  writeRtpHeader,
} from '../../../../firmware/src/media/rtp/rtp-header.js';

test('parses a hand-made packet (RFC 3550 §5.1 layout)', () => {
  // V=2 P=0 X=0 CC=1, M=1 PT=8, seq 0x1234, ts 0xdeadbeef, ssrc 0x01020304, csrc 0x0a0b0c0d, payload 3 bytes
  const buf = Uint8Array.from([0x81, 0x88, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0xd5, 0xd5, 0xd5]);
  const p = parseRtp(buf)!;
  assert.is(p.marker, true);
  assert.is(p.payloadType, 8);
  assert.is(p.sequence, 0x1234);
  assert.is(p.timestamp, 0xdeadbeef);
  assert.is(p.ssrc, 0x01020304);
  assert.equal(p.csrc, [0x0a0b0c0d]);
  assert.is(p.payloadOffset, 16);
  assert.is(p.payloadLength, 3);
});

test('write → parse round trip with extension and padding', () => {
  const buf = new Uint8Array(64);
  const n = writeRtpHeader(buf, {
    padding: true,
    marker: false,
    payloadType: 101,
    sequence: 65535,
    timestamp: 4294967295,
    ssrc: 0x80000000,
    csrc: [1, 2],
    extension: { profile: 0xbede, data: Uint8Array.from([1, 2, 3, 4]) },
  });
  assert.is(n, 12 + 8 + 8);
  buf.set([9, 9, 9, 9], n);
  buf[n + 4] = 0;
  buf[n + 5] = 0;
  buf[n + 6] = 0;
  buf[n + 7] = 4; // 4 bytes of padding
  const p = parseRtp(buf, n + 8)!;
  assert.is(p.payloadType, 101);
  assert.is(p.sequence, 65535);
  assert.is(p.timestamp, 4294967295);
  assert.is(p.ssrc, 0x80000000);
  assert.equal(p.csrc, [1, 2]);
  assert.equal(p.extension, { profile: 0xbede, data: Uint8Array.from([1, 2, 3, 4]) });
  assert.is(p.payloadOffset, n);
  assert.is(p.payloadLength, 4);
  assert.is(p.paddingLength, 4);
});

test('rejects what is not RTP', () => {
  assert.is(rtpPayloadOffset(new Uint8Array(11).fill(0x80)), -1, 'too short');
  assert.is(parseRtp(Uint8Array.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), null, 'version 1');
  assert.is(parseRtp(Uint8Array.from([0x82, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1])), null, 'CSRCs past the end');
  assert.is(parseRtp(Uint8Array.from([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9])), null, 'extension past the end');
  assert.is(parseRtp(Uint8Array.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), null, 'zero padding count');
  assert.is(parseRtp(Uint8Array.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 50])), null, 'padding larger than packet');
});

test('in-place setters change only their field', () => {
  const pkt = buildRtp({ marker: false, payloadType: 0, sequence: 1, timestamp: 2, ssrc: 3, csrc: [], extension: null }, Uint8Array.from([7, 7]));
  setRtpPayloadType(pkt, 8);
  setRtpMarker(pkt, true);
  setRtpSequence(pkt, 0xfffe);
  setRtpTimestamp(pkt, 0xfffffff0);
  setRtpSsrc(pkt, 0xcafebabe);
  const p = parseRtp(pkt)!;
  assert.equal([p.payloadType, p.marker, p.sequence, p.timestamp, p.ssrc], [8, true, 0xfffe, 0xfffffff0, 0xcafebabe]);
  assert.equal([...pkt.subarray(p.payloadOffset)], [7, 7]);
  setRtpPayloadType(pkt, 9);
  assert.is(parseRtp(pkt)!.marker, true, 'PT change keeps the marker');
});

test('sequence and timestamp deltas wrap', () => {
  assert.is(seqDelta(2, 65534), 4);
  assert.is(seqDelta(65534, 2), -4);
  assert.is(seqDelta(100, 100), 0);
  assert.is(tsDelta(10, 0xfffffff6), 20);
  assert.is(tsDelta(0xfffffff6, 10), -20);
});

test.run();
