import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { readdirSync, readFileSync } from 'node:fs';
import { MEDIA_NICE, ThreadedMediaRelay } from '../../../../firmware/src/media/relay/threaded-relay.js';
import type { RelayLeg, DeadMediaEvent } from '../../../../firmware/src/media/relay/relay-api.js';
import { parseSdp } from '../../../../firmware/src/media/sdp/sdp-parse.js';
import type { Sdp } from '../../../../firmware/src/media/sdp/sdp-types.js';
import { buildRtp, parseRtp } from '../../../../firmware/src/media/rtp/rtp-header.js';
import { PgwError } from '../../../../firmware/src/util/errors.js';
import { FakePhone } from '../support/udp.js';

const BASE = 36000 + (process.pid % 200) * 20;
const LOCAL = '127.0.0.1';

function sdp(port: number, pt = 8, name = 'PCMA/8000'): Sdp {
  return parseSdp(`v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP ${pt}\r\na=rtpmap:${pt} ${name}\r\n`);
}

function rtp(seq: number, ssrc: number, pt = 8): Buffer {
  return buildRtp({ marker: false, payloadType: pt, sequence: seq, timestamp: seq * 160, ssrc, csrc: [], extension: null }, new Uint8Array(160).fill(seq & 0xff));
}

/** Two fake phones and a bridged pair of legs on one worker, each leg given its phone's SDP. */
async function call(relay: ThreadedMediaRelay, key: string): Promise<{ a: FakePhone; b: FakePhone; legA: RelayLeg; legB: RelayLeg; close(): void }> {
  const a = await FakePhone.create();
  const b = await FakePhone.create();
  const legA = await relay.openLeg({ localAddress: LOCAL, label: `${key}/a`, affinity: key });
  const legB = await relay.openLeg({ localAddress: LOCAL, label: `${key}/b`, affinity: key });
  legA.setSdp({ local: sdp(legA.rtpPort), remote: sdp(a.rtpPort) });
  legB.setSdp({ local: sdp(legB.rtpPort), remote: sdp(b.rtpPort) });
  relay.bridge(legA, legB);
  return { a, b, legA, legB, close: () => (a.close(), b.close()) };
}

async function until(what: string, ok: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('packets are forwarded by the worker, from the gateway ports; counters and latching show on the main thread', async () => {
  const relay = new ThreadedMediaRelay({ logger: silentLogger(), workers: 1, portMin: BASE, portMax: BASE + 9 });
  await relay.start();
  const c = await call(relay, 'c1');
  try {
    await c.a.send(rtp(1, 0xaaaa), c.legA.rtpPort);
    const got = await c.b.next();
    assert.is(got.from.port, c.legB.rtpPort, 'B hears the gateway leg, not A');
    const p = parseRtp(got.buf)!;
    assert.equal([p.payloadType, p.sequence, p.ssrc], [8, 1, 0xaaaa]);
    await c.b.send(rtp(5, 0xbbbb), c.legB.rtpPort);
    assert.is(parseRtp((await c.a.next()).buf)!.ssrc, 0xbbbb);
    await until('counters', () => c.legA.stats().tx.packets === 1);
    const s = c.legA.stats();
    assert.is(s.rx.packets, 1);
    assert.is(s.rx.bytes, 172);
    assert.ok(s.rx.lastPacketAt !== null && Math.abs(s.rx.lastPacketAt - Date.now()) < 5000);
    assert.is(s.peer, c.legB.id);
    assert.is(s.codec, 'PCMA');
    assert.equal(s.latched, { address: LOCAL, port: c.a.rtpPort });
    assert.is(relay.stats().length, 2);
    assert.is(relay.legCount, 2);
  } finally {
    c.close();
    await relay.close();
  }
});

/** Nice values of this process's threads (/proc/self/task/TID/stat, field 19). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

test('the worker thread runs at the media priority (nice -10), the main thread stays at 0', async () => {
  const before = threadNices().filter((n) => n === MEDIA_NICE).length;
  const relay = new ThreadedMediaRelay({ logger: silentLogger(), workers: 1, portMin: BASE, portMax: BASE + 9 });
  await relay.start();
  try {
    await until('the worker to lower its nice', () => threadNices().filter((n) => n === MEDIA_NICE).length === before + 1);
    assert.is(threadNices()[0], 0, 'the main thread keeps its priority');
  } finally {
    await relay.close();
  }
});

test('a snapshot is taken between two packets: what went in one leg went out of the other, exactly, while packets flow', async () => {
  const relay = new ThreadedMediaRelay({ logger: silentLogger(), workers: 1, portMin: BASE, portMax: BASE + 9 });
  await relay.start();
  const c = await call(relay, 'c1');
  try {
    let seq = 0;
    let sending = true;
    const blast = async (): Promise<void> => {
      while (sending) {
        const batch = [];
        for (let i = 0; i < 20; i++) {
          seq++;
          batch.push(c.a.send(rtp(seq, 1), c.legA.rtpPort), c.b.send(rtp(seq, 2), c.legB.rtpPort));
        }
        await Promise.all(batch);
        await new Promise((r) => setImmediate(r));
      }
    };
    const sender = blast();
    let busy = 0;
    for (let i = 0; i < 40; i++) {
      const snap = await relay.snapshot();
      const a = snap.get(c.legA)!;
      const b = snap.get(c.legB)!;
      if (a.rx.packets > 0) busy++;
      assert.is(a.rx.packets, b.tx.packets, `snapshot ${i}: A in ${a.rx.packets}, B out ${b.tx.packets}`);
      assert.is(b.rx.packets, a.tx.packets, `snapshot ${i}: B in ${b.rx.packets}, A out ${a.tx.packets}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    sending = false;
    await sender;
    assert.ok(busy > 30, 'packets were flowing while the snapshots were taken');
  } finally {
    c.close();
    await relay.close();
  }
});

test('a call stays on one worker; the range is split between workers; a bridge across workers is refused', async () => {
  const relay = new ThreadedMediaRelay({ logger: silentLogger(), workers: 2, portMin: BASE, portMax: BASE + 19 });
  await relay.start();
  const c1 = await call(relay, 'c1');
  const c2 = await call(relay, 'c2');
  try {
    const worker = (l: RelayLeg): string => l.id.split('.')[0]!;
    assert.is(worker(c1.legA), worker(c1.legB));
    assert.is(worker(c2.legA), worker(c2.legB));
    assert.is.not(worker(c1.legA), worker(c2.legA), 'the second call goes to the less busy worker');
    // Worker 0 binds the low half of the range, worker 1 the high half.
    const low = [c1, c2].find((c) => worker(c.legA) === 'm0')!;
    const high = [c1, c2].find((c) => worker(c.legA) === 'm1')!;
    assert.ok(low.legA.rtpPort < BASE + 10 && high.legA.rtpPort >= BASE + 10, `${low.legA.rtpPort} / ${high.legA.rtpPort}`);
    assert.throws(() => relay.bridge(c1.legA, c2.legB), /different workers/);
    // Both calls carry media at once.
    await c1.a.send(rtp(1, 1), c1.legA.rtpPort);
    await c2.a.send(rtp(1, 2), c2.legA.rtpPort);
    assert.is(parseRtp((await c1.b.next()).buf)!.ssrc, 1);
    assert.is(parseRtp((await c2.b.next()).buf)!.ssrc, 2);
  } finally {
    c1.close();
    c2.close();
    await relay.close();
  }
});

test('dead media is detected in the worker and raised on the main thread; RTP again clears it', async () => {
  const relay = new ThreadedMediaRelay({ logger: silentLogger(), workers: 1, portMin: BASE, portMax: BASE + 9, deadAfterMs: 300, deadCheckIntervalMs: 50 });
  await relay.start();
  const dead: DeadMediaEvent[] = [];
  relay.on('dead', (e) => dead.push(e));
  const c = await call(relay, 'c1');
  try {
    // B keeps talking, A goes silent: only A's leg is dead.
    const talk = setInterval(() => void c.b.send(rtp(1, 3), c.legB.rtpPort), 50);
    await until('dead media', () => dead.length > 0, 3000);
    clearInterval(talk);
    assert.is(dead[0]!.leg, c.legA);
    assert.ok(dead[0]!.silentMs >= 300);
    assert.ok(c.legA.stats().dead);
    await c.a.send(rtp(2, 4), c.legA.rtpPort);
    await until('rx after dead', () => c.legA.stats().rx.packets === 1);
    assert.not.ok(c.legA.stats().dead);
  } finally {
    c.close();
    await relay.close();
  }
});

test('closing gives the ports back to the worker; an exhausted worker says so with PGW_E_MEDIA_PORTS', async () => {
  // Four ports: two pairs for one worker.
  const relay = new ThreadedMediaRelay({ logger: silentLogger(), workers: 1, portMin: BASE, portMax: BASE + 3 });
  await relay.start();
  try {
    const l1 = await relay.openLeg({ localAddress: LOCAL });
    const l2 = await relay.openLeg({ localAddress: LOCAL });
    const err = await relay.openLeg({ localAddress: LOCAL }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.instance(err, PgwError);
    assert.is((err as PgwError).code, 'PGW_E_MEDIA_PORTS');
    await l1.close();
    assert.is(l1.state, 'closed');
    const l3 = await relay.openLeg({ localAddress: LOCAL });
    assert.is(l3.rtpPort, l1.rtpPort, 'the closed pair is free again');
    assert.is(relay.legCount, 2);
    await Promise.all([l2.close(), l3.close()]);
    assert.is(relay.legCount, 0);
  } finally {
    await relay.close();
  }
});

test('a worker that dies: its legs raise dead (silentMs 0) and a new worker takes new calls', async () => {
  const relay = new ThreadedMediaRelay({ logger: silentLogger(), workers: 1, portMin: BASE, portMax: BASE + 9 });
  await relay.start();
  const dead: DeadMediaEvent[] = [];
  relay.on('dead', (e) => dead.push(e));
  const c = await call(relay, 'c1');
  try {
    await relay.killWorkerForTest(0);
    await until('dead legs', () => dead.length === 2);
    assert.equal(dead.map((d) => d.silentMs), [0, 0]);
    assert.equal(new Set(dead.map((d) => d.leg)), new Set([c.legA, c.legB]));
    assert.is(c.legA.state, 'closed');
    await c.legA.close(); // nothing left to close: resolves
    const c2 = await call(relay, 'c2');
    await c2.a.send(rtp(1, 9), c2.legA.rtpPort);
    assert.is(parseRtp((await c2.b.next()).buf)!.ssrc, 9);
    c2.close();
  } finally {
    c.close();
    await relay.close();
  }
});

test.run();
