import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyPacket, isRtcpPacketType, isValidRtcpCompound, listRtcpPackets, rewriteRtcpSsrcs } from '../../../../firmware/src/media/rtp/rtcp.js';
import { readU32 } from '../../../../firmware/src/media/rtp/rtp-header.js';

function u32(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** SR with one report block, then SDES with one CNAME chunk, then BYE. */
function compound(): Uint8Array {
  const sr = [0x81, 200, 0, 12, ...u32(0xaaaa0001), ...u32(1), ...u32(2), ...u32(1000), ...u32(10), ...u32(1600)];
  const block = [...u32(0xbbbb0002), 0, 0, 0, 0, ...u32(0x00010005), ...u32(0), ...u32(0), ...u32(0)];
  const cname = [1, 3, 0x61, 0x62, 0x63, 0, 0, 0]; // "abc", null, pad to 8
  const sdes = [0x81, 202, 0, 3, ...u32(0xaaaa0001), ...cname];
  const bye = [0x81, 203, 0, 1, ...u32(0xaaaa0001)];
  return Uint8Array.from([...sr, ...block, ...sdes, ...bye]);
}

test('RFC 5761 demultiplexing: second octet 192–223 is RTCP', () => {
  assert.is(classifyPacket(Uint8Array.from([0x80, 200, 0, 6, 0, 0, 0, 0])), 'rtcp');
  assert.is(classifyPacket(Uint8Array.from([0x80, 201, 0, 1, 0, 0, 0, 0])), 'rtcp');
  assert.is(classifyPacket(Uint8Array.from([0x80, 0x80 | 72, 0, 1, 0, 0, 0, 0])), 'rtcp', 'marker set + PT 72 looks like SR');
  assert.is(classifyPacket(Uint8Array.from([0x80, 0x08, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])), 'rtp');
  assert.is(classifyPacket(Uint8Array.from([0x80, 0x88, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])), 'rtp', 'PCMA with marker');
  assert.is(classifyPacket(Uint8Array.from([0x80, 101, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])), 'rtp');
  assert.is(classifyPacket(Uint8Array.from([0x40, 200, 0, 1, 0, 0, 0, 0])), 'invalid');
  assert.is(classifyPacket(Uint8Array.from([0x80, 8, 0, 1, 0, 0, 0, 0])), 'invalid', '8-byte RTP is too short');
  assert.ok(isRtcpPacketType(200) && isRtcpPacketType(204));
  assert.not.ok(isRtcpPacketType(199) || isRtcpPacketType(205));
});

test('compound validity (RFC 3550 A.2)', () => {
  const c = compound();
  assert.ok(isValidRtcpCompound(c));
  assert.equal(listRtcpPackets(c).map((p) => [p.type, p.count, p.length]), [[200, 1, 52], [202, 1, 16], [203, 1, 8]]);
  assert.not.ok(isValidRtcpCompound(c.subarray(0, c.length - 4)), 'truncated');
  const bad = c.slice();
  bad[1] = 202; // starts with SDES
  assert.not.ok(isValidRtcpCompound(bad));
  const padded = c.slice();
  padded[0] = 0xa1; // padding bit on the first packet
  assert.not.ok(isValidRtcpCompound(padded));
});

test('SSRC rewriting for a renumbered stream', () => {
  const c = compound();
  rewriteRtcpSsrcs(c, c.length, { sender: { from: 0xaaaa0001, to: 0x11111111, tsOffset: 400 }, reported: { from: 0xbbbb0002, to: 0x22222222, seqOffset: 3 } });
  assert.is(readU32(c, 4), 0x11111111, 'SR sender');
  assert.is(readU32(c, 16), 1400, 'SR RTP timestamp shifted');
  assert.is(readU32(c, 28), 0x22222222, 'report block SSRC');
  assert.is(readU32(c, 36), 0x00010002, 'extended highest seq back in the source numbering');
  assert.is(readU32(c, 56), 0x11111111, 'SDES chunk');
  assert.is(readU32(c, 72), 0x11111111, 'BYE');
  const untouched = compound();
  rewriteRtcpSsrcs(untouched, untouched.length, { sender: { from: 5, to: 6, tsOffset: 1 }, reported: null });
  assert.equal(untouched, compound(), 'other SSRCs left alone');
});

test.run();
