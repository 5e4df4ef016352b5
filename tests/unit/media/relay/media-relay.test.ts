import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { negotiateAnswer, relayOffer } from '../../../../firmware/src/media/sdp/sdp-negotiate.js';
import { parseRtp } from '../../../../firmware/src/media/rtp/rtp-header.js';
import type { ParsedRtp } from '../../../../firmware/src/media/rtp/rtp-header.js';
import { readU32 } from '../../../../firmware/src/media/rtp/rtp-header.js';
import { alawEncode, ulawDecode } from '../../../../firmware/src/media/codec/g711.js';
import { FakePhone, otherSocket, sendFrom } from '../support/udp.js';
import { sine, snrDb } from '../support/signal.js';
import { call, LOCAL, phoneSdp, rtp } from '../support/relay-call.js';

test('pass-through A → B and B → A, from the gateway ports, payload untouched', async () => {
  const w = await call({ aCodecs: [[8, 'PCMA/8000']], bCodecs: [[8, 'PCMA/8000']] });
  try {
    const payload = Uint8Array.from({ length: 160 }, (_, i) => i);
    await w.a.send(rtp({ pt: 8, seq: 1, ts: 160, ssrc: 0xaaaa, payload }), w.legA.rtpPort);
    const got = await w.b.next();
    assert.is(got.from.port, w.legB.rtpPort, 'B hears the gateway, not A');
    const p = parseRtp(got.buf)!;
    assert.equal([p.payloadType, p.sequence, p.timestamp, p.ssrc], [8, 1, 160, 0xaaaa]);
    assert.equal([...got.buf.subarray(p.payloadOffset)], [...payload]);
    await w.b.send(rtp({ pt: 8, seq: 7, ts: 999, ssrc: 0xbbbb }), w.legB.rtpPort);
    const back = await w.a.next();
    assert.is(back.from.port, w.legA.rtpPort);
    assert.is(parseRtp(back.buf)!.ssrc, 0xbbbb);
    const s = w.legA.stats();
    assert.is(s.rx.packets, 1);
    assert.is(s.rx.bytes, 172);
    assert.is(s.tx.packets, 1);
    assert.is(s.rx.lastPacketAt, w.clock.now());
    assert.is(s.peer, w.legB.id);
    assert.is(s.codec, 'PCMA');
    assert.equal(s.latched, { address: '127.0.0.1', port: w.a.rtpPort });
  } finally {
    await w.close();
  }
});

test('telephone-event is relayed with each leg\'s payload type', async () => {
  const w = await call({ aCodecs: [[8, 'PCMA/8000'], [101, 'telephone-event/8000']], bCodecs: [[8, 'PCMA/8000'], [101, 'telephone-event/8000']] });
  try {
    // Leg B's far end uses 96 for telephone-event (e.g. it offered in a later re-INVITE with its own numbers).
    const offerB = phoneSdp({ port: w.b.rtpPort, codecs: [[8, 'PCMA/8000'], [96, 'telephone-event/8000']] });
    const answerToB = negotiateAnswer({ offer: offerB, supported: ['PCMA'], localAddress: LOCAL, localPort: w.legB.rtpPort }).answer;
    w.legB.setSdp({ local: answerToB, remote: offerB });
    const dtmf = Uint8Array.from([5, 0x0a, 0x01, 0x40]);
    await w.a.send(rtp({ pt: 101, seq: 10, ts: 1600, ssrc: 0xaaaa, payload: dtmf, marker: true }), w.legA.rtpPort);
    const got = parseRtp((await w.b.next()).buf)!;
    assert.is(got.payloadType, 96);
    assert.is(got.marker, true);
    await w.b.send(rtp({ pt: 96, seq: 3, ts: 0, ssrc: 0xbbbb, payload: dtmf }), w.legB.rtpPort);
    assert.is(parseRtp((await w.a.next()).buf)!.payloadType, 101);
    // Audio keeps PT 8 both ways.
    await w.a.send(rtp({ pt: 8, seq: 11, ts: 1760, ssrc: 0xaaaa }), w.legA.rtpPort);
    assert.is(parseRtp((await w.b.next()).buf)!.payloadType, 8);
  } finally {
    await w.close();
  }
});

test('symmetric latching: media goes back to where A really sends from; a second source is ignored until the first is silent', async () => {
  const w = await call({ aCodecs: [[0, 'PCMU/8000']], bCodecs: [[0, 'PCMU/8000']] });
  const nat = await otherSocket();
  const intruder = await otherSocket();
  try {
    // A's packets come from a NAT binding, not the port in A's SDP.
    await sendFrom(nat, rtp({ pt: 0, seq: 1, ts: 0, ssrc: 1 }), w.legA.rtpPort);
    await w.b.next();
    const natQueue: Buffer[] = [];
    nat.on('message', (m) => natQueue.push(m));
    await w.b.send(rtp({ pt: 0, seq: 1, ts: 0, ssrc: 2 }), w.legB.rtpPort);
    assert.ok(await w.a.silent(), 'nothing to the SDP port');
    assert.is(natQueue.length, 1, 'reply went to the latched source');
    // An intruder with a valid packet is dropped.
    await sendFrom(intruder, rtp({ pt: 0, seq: 50, ts: 0, ssrc: 666 }), w.legA.rtpPort);
    assert.ok(await w.b.silent(), 'intruder not forwarded');
    assert.is(w.legA.stats().dropped.foreignSource, 1);
    // Garbage and unknown payload types do not latch or pass.
    await sendFrom(intruder, Buffer.from('hello, this is not RTP'), w.legA.rtpPort);
    await sendFrom(intruder, rtp({ pt: 18, seq: 1, ts: 0, ssrc: 7 }), w.legA.rtpPort);
    assert.ok(await w.b.silent());
    assert.is(w.legA.stats().dropped.invalid, 1);
    assert.is(w.legA.stats().dropped.unknownPayloadType, 1);
    // After the latched source has been silent for relatchAfterMs, a new source may take over (NAT rebinding).
    w.clock.advance(2000);
    await sendFrom(intruder, rtp({ pt: 0, seq: 51, ts: 0, ssrc: 666 }), w.legA.rtpPort);
    await w.b.next();
    assert.equal(w.legA.stats().latched, { address: '127.0.0.1', port: intruder.address().port });
  } finally {
    nat.close();
    intruder.close();
    await w.close();
  }
});

test('an SDP with a new address unlatches; the same SDP again does not', async () => {
  const w = await call({ aCodecs: [[8, 'PCMA/8000']], bCodecs: [[8, 'PCMA/8000']] });
  const moved = await FakePhone.create();
  try {
    await w.a.send(rtp({ pt: 8, seq: 1, ts: 0, ssrc: 1 }), w.legA.rtpPort);
    await w.b.next();
    const offerA = phoneSdp({ port: w.a.rtpPort, codecs: [[8, 'PCMA/8000']], version: 2 });
    const ans = negotiateAnswer({ offer: offerA, supported: ['PCMA'], localAddress: LOCAL, localPort: w.legA.rtpPort }).answer;
    w.legA.setSdp({ local: ans, remote: offerA });
    await moved.send(rtp({ pt: 8, seq: 2, ts: 160, ssrc: 1 }), w.legA.rtpPort);
    assert.ok(await w.b.silent(), 'same SDP: still latched to the old source');
    const offerMoved = phoneSdp({ port: moved.rtpPort, codecs: [[8, 'PCMA/8000']], version: 3 });
    w.legA.setSdp({ local: ans, remote: offerMoved });
    await w.b.send(rtp({ pt: 8, seq: 1, ts: 0, ssrc: 2 }), w.legB.rtpPort);
    await moved.next();
    await moved.send(rtp({ pt: 8, seq: 3, ts: 320, ssrc: 1 }), w.legA.rtpPort);
    await w.b.next();
  } finally {
    moved.close();
    await w.close();
  }
});

test('hold: nothing is sent toward the held direction, the other way still flows; resume restores', async () => {
  const w = await call({ aCodecs: [[8, 'PCMA/8000']], bCodecs: [[8, 'PCMA/8000']] });
  try {
    // A holds: re-INVITE sendonly, relayed to B as sendonly, B answers recvonly.
    const holdA = phoneSdp({ port: w.a.rtpPort, codecs: [[8, 'PCMA/8000']], direction: 'sendonly', version: 2 });
    const toB = relayOffer({ from: holdA, localAddress: LOCAL, localPort: w.legB.rtpPort }).offer;
    const bAns = phoneSdp({ port: w.b.rtpPort, codecs: [[8, 'PCMA/8000']], direction: 'recvonly', version: 2 });
    w.legB.setSdp({ local: toB, remote: bAns });
    const toA = negotiateAnswer({ offer: holdA, supported: ['PCMA'], localAddress: LOCAL, localPort: w.legA.rtpPort, direction: 'recvonly' }).answer;
    w.legA.setSdp({ local: toA, remote: holdA });
    assert.equal(w.legA.flow, { toLeg: false, fromLeg: true });
    assert.equal(w.legB.flow, { toLeg: true, fromLeg: false });
    await w.b.send(rtp({ pt: 8, seq: 1, ts: 0, ssrc: 2 }), w.legB.rtpPort);
    assert.ok(await w.a.silent(), 'B → A blocked while A holds');
    assert.is(w.legB.stats().dropped.direction, 1);
    await w.a.send(rtp({ pt: 8, seq: 1, ts: 0, ssrc: 1 }), w.legA.rtpPort);
    await w.b.next(); // music on hold from A still reaches B
    // Resume.
    const resumeA = phoneSdp({ port: w.a.rtpPort, codecs: [[8, 'PCMA/8000']], version: 3 });
    w.legA.setSdp({ local: negotiateAnswer({ offer: resumeA, supported: ['PCMA'], localAddress: LOCAL, localPort: w.legA.rtpPort }).answer, remote: resumeA });
    w.legB.setSdp({ local: relayOffer({ from: resumeA, localAddress: LOCAL, localPort: w.legB.rtpPort }).offer, remote: phoneSdp({ port: w.b.rtpPort, codecs: [[8, 'PCMA/8000']] }) });
    await w.b.send(rtp({ pt: 8, seq: 2, ts: 160, ssrc: 2 }), w.legB.rtpPort);
    await w.a.next();
  } finally {
    await w.close();
  }
});

test('re-bridging keeps SSRC, sequence and timestamp continuous toward the phone', async () => {
  const w = await call({ aCodecs: [[8, 'PCMA/8000']], bCodecs: [[8, 'PCMA/8000']] });
  const c = await FakePhone.create();
  try {
    for (let i = 0; i < 3; i++) await w.b.send(rtp({ pt: 8, seq: 1000 + i, ts: 50_000 + 160 * i, ssrc: 0xb0b }), w.legB.rtpPort);
    const before: ParsedRtp[] = [];
    for (let i = 0; i < 3; i++) before.push(parseRtp((await w.a.next()).buf)!);
    assert.equal(before.map((p) => [p.ssrc, p.sequence]), [[0xb0b, 1000], [0xb0b, 1001], [0xb0b, 1002]]);
    // Transfer: A is now bridged to C (another leg, another source).
    const legC = await w.relay.openLeg({ localAddress: LOCAL, label: 'C' });
    const offerC = phoneSdp({ port: c.rtpPort, codecs: [[8, 'PCMA/8000']] });
    legC.setSdp({ local: negotiateAnswer({ offer: offerC, supported: ['PCMA'], localAddress: LOCAL, localPort: legC.rtpPort }).answer, remote: offerC });
    w.relay.bridge(w.legA, legC);
    assert.is(w.legB.peer, null, 'B is left unbridged');
    w.clock.advance(100);
    for (let i = 0; i < 3; i++) await c.send(rtp({ pt: 8, seq: 7 + i, ts: 3_000_000 + 160 * i, ssrc: 0xc0c }), legC.rtpPort);
    const after: ParsedRtp[] = [];
    for (let i = 0; i < 3; i++) after.push(parseRtp((await w.a.next()).buf)!);
    assert.equal(after.map((p) => p.ssrc), [0xb0b, 0xb0b, 0xb0b], 'same SSRC');
    assert.equal(after.map((p) => p.sequence), [1003, 1004, 1005], 'sequence continues');
    assert.is(after[0]!.timestamp, 50_320 + 800, 'timestamp advances by the 100 ms that passed');
    assert.equal(after.map((p) => p.timestamp - after[0]!.timestamp), [0, 160, 320]);
    assert.equal(after.map((p) => p.marker), [true, false, false], 'marker on the first packet of the new source');
    // B still sends: nothing reaches A from B now.
    await w.b.send(rtp({ pt: 8, seq: 1003, ts: 50_480, ssrc: 0xb0b }), w.legB.rtpPort);
    assert.ok(await w.a.silent());
    // RTCP from C toward A is renumbered to match.
    const sr = Buffer.alloc(28);
    sr.set([0x80, 200, 0, 6]);
    sr.writeUInt32BE(0xc0c, 4);
    sr.writeUInt32BE(3_000_000, 16);
    await c.send(sr, legC.rtcpPort, 'rtcp');
    const got = await w.a.next('rtcp');
    assert.is(got.from.port, w.legA.rtcpPort);
    assert.is(readU32(got.buf, 4), 0xb0b);
    assert.is(readU32(got.buf, 16), after[0]!.timestamp);
  } finally {
    c.close();
    await w.close();
  }
});

test('RTCP is relayed between the RTCP sockets (and RTCP on the RTP port too, RFC 5761)', async () => {
  const w = await call({ aCodecs: [[0, 'PCMU/8000']], bCodecs: [[0, 'PCMU/8000']] });
  try {
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0xaa, 0xaa]);
    await w.a.send(rr, w.legA.rtcpPort, 'rtcp');
    const got = await w.b.next('rtcp');
    assert.is(got.from.port, w.legB.rtcpPort);
    assert.equal([...got.buf], [...rr]);
    await w.a.send(rr, w.legA.rtpPort, 'rtcp');
    assert.ok((await w.b.next('rtcp')).buf.equals(rr));
    assert.is(w.legA.stats().rx.rtcpPackets, 2);
    await w.a.send(Buffer.from([0x80, 201, 0, 9, 0, 0, 0, 0]), w.legA.rtcpPort, 'rtcp');
    assert.ok(await w.b.silent('rtcp'), 'bad length is not relayed');
  } finally {
    await w.close();
  }
});

test('different codecs: A-law from A arrives as µ-law at B, in tune', async () => {
  const w = await call({ aCodecs: [[8, 'PCMA/8000']], bCodecs: [[0, 'PCMU/8000']], supported: ['PCMA', 'PCMU'] });
  try {
    // B was offered PCMA only by A; here B insists on PCMU (a phone that only does µ-law).
    const bOnly = phoneSdp({ port: w.b.rtpPort, codecs: [[0, 'PCMU/8000']] });
    const toB = relayOffer({ from: phoneSdp({ port: 1, codecs: [[0, 'PCMU/8000']] }), localAddress: LOCAL, localPort: w.legB.rtpPort }).offer;
    w.legB.setSdp({ local: toB, remote: bOnly });
    const tone = sine({ freq: 1013, rate: 8000, samples: 160 * 10, amplitude: 8000 });
    const heard = new Int16Array(tone.length);
    const frame = new Uint8Array(160);
    for (let f = 0; f < 10; f++) {
      alawEncode(tone.subarray(f * 160, f * 160 + 160), frame);
      await w.a.send(rtp({ pt: 8, seq: f, ts: f * 160, ssrc: 1, payload: frame }), w.legA.rtpPort);
      const p = await w.b.next();
      const h = parseRtp(p.buf)!;
      assert.is(h.payloadType, 0);
      assert.is(h.payloadLength, 160);
      ulawDecode(p.buf, h.payloadOffset, 160, heard.subarray(f * 160));
    }
    const { snr } = snrDb(tone, heard, { start: 0, end: 1500, maxDelay: 0 });
    // Two G.711 quantisations in tandem: about 32 dB for this tone; a wrong table gives far less.
    assert.ok(snr > 28, `SNR ${snr}`);
    assert.is(w.legB.stats().tx.transcoded, 10);
  } finally {
    await w.close();
  }
});

test('G.722 on one leg, PCMA on the other: transcoded both ways', async () => {
  const w = await call({ aCodecs: [[9, 'G722/8000']], bCodecs: [[9, 'G722/8000']] });
  try {
    const bOnly = phoneSdp({ port: w.b.rtpPort, codecs: [[8, 'PCMA/8000']] });
    w.legB.setSdp({ local: relayOffer({ from: bOnly, localAddress: LOCAL, localPort: w.legB.rtpPort }).offer, remote: bOnly });
    for (let f = 0; f < 3; f++) {
      await w.a.send(rtp({ pt: 9, seq: f, ts: f * 160, ssrc: 1, payload: new Uint8Array(160).fill(0xfa) }), w.legA.rtpPort);
      assert.is(parseRtp((await w.b.next()).buf)!.payloadType, 8);
      await w.b.send(rtp({ pt: 8, seq: f, ts: f * 160, ssrc: 2 }), w.legB.rtpPort);
      const back = parseRtp((await w.a.next()).buf)!;
      assert.is(back.payloadType, 9);
      assert.is(back.payloadLength, 160);
    }
  } finally {
    await w.close();
  }
});

test('a codec that cannot be transcoded is dropped and counted', async () => {
  const w = await call({ aCodecs: [[18, 'G729/8000']], bCodecs: [[18, 'G729/8000']], supported: ['G729'] });
  try {
    const bOnly = phoneSdp({ port: w.b.rtpPort, codecs: [[8, 'PCMA/8000']] });
    w.legB.setSdp({ local: relayOffer({ from: bOnly, localAddress: LOCAL, localPort: w.legB.rtpPort }).offer, remote: bOnly });
    await w.a.send(rtp({ pt: 18, seq: 1, ts: 0, ssrc: 1, payload: new Uint8Array(20) }), w.legA.rtpPort);
    assert.ok(await w.b.silent());
    assert.is(w.legA.stats().dropped.codec, 1);
  } finally {
    await w.close();
  }
});

test('loss is counted from sequence gaps; late packets are taken back', async () => {
  const w = await call({ aCodecs: [[8, 'PCMA/8000']], bCodecs: [[8, 'PCMA/8000']] });
  try {
    for (const seq of [65534, 65535, 2, 3, 1]) {
      await w.a.send(rtp({ pt: 8, seq, ts: 0, ssrc: 9 }), w.legA.rtpPort);
      await w.b.next();
    }
    assert.is(w.legA.stats().rx.lost, 1, 'seq 0 missing (1 arrived late)');
  } finally {
    await w.close();
  }
});

test('dead media: silence from a bridged leg raises dead once; not while on hold', async () => {
  const w = await call({ aCodecs: [[8, 'PCMA/8000']], bCodecs: [[8, 'PCMA/8000']], deadAfterMs: 5000 });
  try {
    const dead: string[] = [];
    w.relay.on('dead', (e) => dead.push(`${e.leg.label}:${e.silentMs}`));
    let legEvent = 0;
    w.legB.on('dead', () => legEvent++);
    w.clock.advance(3000);
    await w.a.send(rtp({ pt: 8, seq: 1, ts: 0, ssrc: 1 }), w.legA.rtpPort);
    await w.b.next();
    w.clock.advance(2000);
    assert.equal(dead, ['B:5000'], 'B never sent; A sent 2 s ago');
    assert.is(legEvent, 1);
    w.clock.advance(10_000);
    assert.equal(dead, ['B:5000', 'A:5000'], 'each raised once, A five seconds after its last packet');
    assert.ok(w.legB.stats().dead);
    // B comes back: flag clears.
    await w.b.send(rtp({ pt: 8, seq: 1, ts: 0, ssrc: 2 }), w.legB.rtpPort);
    await w.a.next();
    assert.not.ok(w.legB.stats().dead);
    // On hold, silence is fine.
    const holdA = phoneSdp({ port: w.a.rtpPort, codecs: [[8, 'PCMA/8000']], direction: 'sendonly', version: 2 });
    w.legA.setSdp({ local: negotiateAnswer({ offer: holdA, supported: ['PCMA'], localAddress: LOCAL, localPort: w.legA.rtpPort }).answer, remote: holdA });
    dead.length = 0;
    w.clock.advance(60_000);
    assert.equal(dead, []);
  } finally {
    await w.close();
  }
});

test('closing gives the ports back; a closed leg cannot be bridged', async () => {
  const w = await call({ aCodecs: [[8, 'PCMA/8000']], bCodecs: [[8, 'PCMA/8000']] });
  try {
    assert.is(w.relay.legCount, 2);
    assert.is(w.relay.stats().length, 2);
    await w.legA.close();
    assert.is(w.legB.peer, null);
    assert.is(w.relay.legCount, 1);
    assert.throws(() => w.relay.bridge(w.legA, w.legB), /closed/);
    assert.throws(() => w.legA.setSdp({}), (e: Error & { code?: string }) => e.code === 'PGW_E_STATE_TRANSITION');
    await w.b.send(rtp({ pt: 8, seq: 1, ts: 0, ssrc: 2 }), w.legB.rtpPort);
    assert.ok(await w.a.silent());
  } finally {
    await w.close();
  }
  assert.is(w.clock.pending(), 0, 'no sweep timer left behind');
});

test.run();
