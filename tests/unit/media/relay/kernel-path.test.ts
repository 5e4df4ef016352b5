/**
 * The kernel fast path's decisions in MediaRelay (kernel-path.ts), with real
 * sockets on 127.0.0.1, a fake clock and a fake nft that records each script
 * and answers `list map` with counts the test sets. That the nft rules really
 * forward is proven with real nft in tests/integration/pbx/kernel-forwarding.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { KernelOffload } from '../../../../firmware/src/media/offload/kernel-offload.js';
import type { HostLinks } from '../../../../firmware/src/media/offload/host-links.js';
import { parseRtp } from '../../../../firmware/src/media/rtp/rtp-header.js';
import { negotiateAnswer } from '../../../../firmware/src/media/sdp/sdp-negotiate.js';
import { FakePhone } from '../support/udp.js';
import { call, LOCAL, phoneSdp, rtp } from '../support/relay-call.js';
import type { World } from '../support/relay-call.js';

const LO = { name: 'lo', index: 1, loopback: true };

class FakeNft {
  scripts: string[] = [];
  /** leg_in elements as `list map` prints them: "port . addr . sport . pt counter packets N bytes M". */
  elements = new Map<string, { packets: number; bytes: number }>();
  links: HostLinks = { sharedDevice: () => LO };
  exec = (script: string): Promise<string> => {
    this.scripts.push(script);
    let out = '';
    if (script.includes('list map')) {
      const els = [...this.elements].map(([k, c]) => `${k} counter packets ${c.packets} bytes ${c.bytes} : 0x5a000000`);
      out = `table netdev pgw_media {\n\tmap leg_in {\n\t\telements = { ${els.join(',\n\t\t\t     ')} }\n\t}\n}\n`;
    }
    return Promise.resolve(out);
  };
  offload(): KernelOffload {
    return new KernelOffload({ exec: this.exec, links: this.links, logger: silentLogger(), portMin: 1024, portMax: 65535 });
  }
  count(port: number, phonePort: number, pt: number, packets: number): void {
    this.elements.set(`${port} . 127.0.0.1 . ${phonePort} . 0x${pt.toString(16)}`, { packets, bytes: packets * 200 });
  }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A re-INVITE from A (hold, resume, refresh) answered by the gateway on leg A. */
function aOffersAgain(w: World, o: { version: number; direction?: string; withRtcp?: boolean }): void {
  const offer = phoneSdp({ port: w.a.rtpPort, ...(o.withRtcp ? { rtcpPort: w.a.rtcpPort } : {}), codecs: [[0, 'PCMU/8000']], version: o.version, ...(o.direction ? { direction: o.direction } : {}) });
  w.legA.setSdp({ local: negotiateAnswer({ offer, supported: ['PCMU'], localAddress: LOCAL, localPort: w.legA.rtpPort }).answer, remote: offer });
}

/** Each phone sends one packet through the gateway (A with ptA, B with ptB), then the relay sweeps. */
async function bothSendThenSweep(w: World, o: { a: number; b: number; ptA?: number; ptB?: number }): Promise<void> {
  await w.a.send(rtp({ pt: o.ptA ?? 0, seq: o.a, ts: o.a * 160, ssrc: 0xaaaa }), w.legA.rtpPort);
  await w.b.next();
  await w.b.send(rtp({ pt: o.ptB ?? 0, seq: o.b, ts: o.b * 160, ssrc: 0xbbbb }), w.legB.rtpPort);
  await w.a.next();
  w.clock.advance(1000);
  await flush();
}

/** Both phones send one packet, then a sweep: the pair is steady and goes to the kernel. */
async function intoKernel(w: World, nft: FakeNft, lastSeq: { a: number; b: number }): Promise<void> {
  await bothSendThenSweep(w, lastSeq);
  assert.ok(nft.scripts.some((s) => s.includes('add element')), 'flows added');
}

test('a steady pass-through pair goes to the kernel with both flows and the payload types that pass unchanged', async () => {
  const nft = new FakeNft();
  const w = await call({ aCodecs: [[0, 'PCMU/8000'], [101, 'telephone-event/8000']], bCodecs: [[0, 'PCMU/8000'], [101, 'telephone-event/8000']], offload: nft.offload() });
  try {
    w.clock.advance(1000);
    await flush();
    assert.not.ok(nft.scripts.some((s) => s.includes('add element')), 'no media yet: not steady');
    await intoKernel(w, nft, { a: 10, b: 20 });
    const add = nft.scripts.find((s) => s.includes('add element'))!;
    for (const pt of [0, 101]) {
      assert.ok(add.includes(`${w.legA.rtpPort} . 127.0.0.1 . ${w.a.rtpPort} . ${pt} : 0x5a00${w.legA.rtpPort.toString(16)}`), `A's flow, pt ${pt}`);
      assert.ok(add.includes(`${w.legB.rtpPort} . 127.0.0.1 . ${w.b.rtpPort} . ${pt} :`), `B's flow, pt ${pt}`);
    }
    // A's packets leave from leg B to B's latched port, and the other way round.
    assert.ok(add.includes(`0x5a00${w.legA.rtpPort.toString(16)} : ${w.legB.rtpPort}`), 'A → B leaves from leg B');
    assert.ok(add.includes(`0x5a00${w.legA.rtpPort.toString(16)} : ${w.b.rtpPort}`), 'A → B goes to B');
    assert.ok(add.includes('add chain netdev pgw_media in_1'), 'a chain on the device');
    assert.is(w.legA.stats().forwarding, 'kernel');
    assert.is(w.legB.stats().forwarding, 'kernel');
  } finally {
    await w.close();
  }
});

test('the kernel counts reach the legs each sweep, keep the call alive, and a silent kernel flow is dead media', async () => {
  const nft = new FakeNft();
  const w = await call({ aCodecs: [[0, 'PCMU/8000']], bCodecs: [[0, 'PCMU/8000']], deadAfterMs: 5000, offload: nft.offload() });
  const dead: string[] = [];
  w.relay.on('dead', (e) => dead.push(e.leg.id));
  try {
    await intoKernel(w, nft, { a: 10, b: 20 });
    const before = w.legA.stats();
    for (let s = 1; s <= 8; s++) {
      nft.count(w.legA.rtpPort, w.a.rtpPort, 0, 50 * s);
      nft.count(w.legB.rtpPort, w.b.rtpPort, 0, 50 * s);
      w.clock.advance(1000);
      await flush();
    }
    assert.equal(dead, [], 'eight seconds of kernel-forwarded media is not dead');
    const a = w.legA.stats();
    // The last count is read by the sweep after it.
    assert.ok(a.rx.packets - before.rx.packets >= 350, `A's rx grew by ${a.rx.packets - before.rx.packets}`);
    assert.is((a.rx.bytes - before.rx.bytes) / (a.rx.packets - before.rx.packets), 172, 'bytes without IP and UDP headers');
    assert.is(w.legB.stats().tx.packets - 1, a.rx.packets - before.rx.packets, 'what A sent is what went out to B');
    // A's phone stops: its count stands still, and after deadAfterMs the leg is dead.
    for (let s = 0; s < 7; s++) {
      nft.count(w.legB.rtpPort, w.b.rtpPort, 0, 400 + 50 * s);
      w.clock.advance(1000);
      await flush();
    }
    assert.equal(dead, [w.legA.id]);
  } finally {
    await w.close();
  }
});

test('re-bridging takes the pair out first and continues B\'s stream after what the kernel sent', async () => {
  const nft = new FakeNft();
  const w = await call({ aCodecs: [[0, 'PCMU/8000']], bCodecs: [[0, 'PCMU/8000']], offload: nft.offload() });
  const c = await FakePhone.create();
  try {
    await intoKernel(w, nft, { a: 100, b: 20 });
    nft.count(w.legA.rtpPort, w.a.rtpPort, 0, 600);
    // A third party (a transfer): leg C is bridged to B.
    const legC = await w.relay.openLeg({ localAddress: LOCAL, label: 'C' });
    const offerC = phoneSdp({ port: c.rtpPort, codecs: [[0, 'PCMU/8000']] });
    legC.setSdp({ local: negotiateAnswer({ offer: offerC, supported: ['PCMU'], localAddress: LOCAL, localPort: legC.rtpPort }).answer, remote: offerC });
    w.relay.bridge(legC, w.legB);
    await flush();
    await flush();
    const removal = nft.scripts.find((s) => s.includes('delete element'));
    assert.ok(removal, 'flows removed');
    assert.ok(removal.indexOf('list map') < removal.indexOf('delete element'), 'counted in the same batch, before the removal');
    assert.is(w.legB.stats().forwarding, 'user');
    await c.send(rtp({ pt: 0, seq: 5000, ts: 77, ssrc: 0xcccc }), legC.rtpPort);
    const got = parseRtp((await w.b.next()).buf)!;
    assert.is(got.ssrc, 0xaaaa, 'B keeps the SSRC it had');
    // Last in user space: 100; the kernel then sent 600 (and a margin of 3 for uncounted ones).
    assert.is(got.sequence, 100 + 600 + 3 + 1);
    assert.is(got.marker, true);
  } finally {
    c.close();
    await w.close();
  }
});

test('new SDP (hold) takes the pair out; a leg closing waits for the kernel to stop before its ports go', async () => {
  const nft = new FakeNft();
  const w = await call({ aCodecs: [[0, 'PCMU/8000']], bCodecs: [[0, 'PCMU/8000']], offload: nft.offload() });
  try {
    await intoKernel(w, nft, { a: 10, b: 20 });
    aOffersAgain(w, { version: 2, direction: 'sendonly' });
    await flush();
    assert.is(nft.scripts.filter((s) => s.includes('delete element')).length, 1, 'removed on new SDP');
    // On hold: not steady, so it stays in user space however long.
    w.clock.advance(5000);
    await flush();
    assert.is(nft.scripts.filter((s) => s.includes('add element')).length, 1);

    // Resume, media flows again: back in the kernel after the cooldown; then close one leg.
    aOffersAgain(w, { version: 3 });
    await intoKernel(w, nft, { a: 11, b: 21 });
    assert.is(nft.scripts.filter((s) => s.includes('add element')).length, 2, 'in again after resume');
    const n = nft.scripts.length;
    await w.legA.close();
    assert.ok(nft.scripts.slice(n).some((s) => s.includes('delete element')), 'the kernel flows were removed before close() finished');
  } finally {
    await w.close();
  }
});

test('a session refresh that changes nothing for media leaves the pair in the kernel', async () => {
  const nft = new FakeNft();
  const w = await call({ aCodecs: [[0, 'PCMU/8000']], bCodecs: [[0, 'PCMU/8000']], offload: nft.offload() });
  try {
    await intoKernel(w, nft, { a: 10, b: 20 });
    // The same offer again with a new o= version (RFC 4028 refresh): same far end, codecs, direction.
    aOffersAgain(w, { version: 2, withRtcp: true });
    await flush();
    assert.not.ok(nft.scripts.some((s) => s.includes('delete element')), 'not taken out');
    assert.is(w.legA.stats().forwarding, 'kernel');
  } finally {
    await w.close();
  }
});

test('a pair that would need transcoding stays in user space', async () => {
  const nft = new FakeNft();
  const w = await call({ aCodecs: [[8, 'PCMA/8000']], bCodecs: [[0, 'PCMU/8000']], supported: ['PCMA', 'PCMU'], offload: nft.offload() });
  try {
    await bothSendThenSweep(w, { a: 1, b: 1, ptA: 8 });
    assert.not.ok(nft.scripts.some((s) => s.includes('add element')));
    assert.is(w.legA.stats().forwarding, 'user');
  } finally {
    await w.close();
  }
});

test('phones off the link (the cloud, a trunk) stay in user space', async () => {
  const nft = new FakeNft();
  nft.links = { sharedDevice: () => null };
  const w = await call({ aCodecs: [[0, 'PCMU/8000']], bCodecs: [[0, 'PCMU/8000']], offload: nft.offload() });
  try {
    await bothSendThenSweep(w, { a: 1, b: 1 });
    assert.not.ok(nft.scripts.some((s) => s.includes('add element')));
  } finally {
    await w.close();
  }
});

test.run();
