/**
 * A direct measure of the gateway's added forwarding delay and loss for
 * anchored RTP (issue 2: "p99 added forwarding delay under 2 ms").
 *
 * Run as its own process inside the benchmark's namespace (so its timing is
 * not disturbed by the benchmark process's own work):
 *
 *   node --import tsx rtp-probe.ts --a-port 55000 --b-port 55002 --gw-a 20004 --gw-b 20008
 *
 * It owns both media ends of one call through the gateway: socket A is the
 * caller's media address in the call's SDP, socket B the callee's. Every
 * 20 ms (G.711 ptime) it sends one 172-byte PCMU RTP packet A → gateway leg A
 * (gw-a) and one B → gateway leg B (gw-b); the gateway relays them out of the
 * other leg to B and to A. Each payload carries the probe's own sequence
 * number and the send time (CLOCK_MONOTONIC, ns), so the receiving side
 * computes the one-way time through the gateway without trusting any RTP
 * header field (the relay may renumber those).
 *
 * Two baselines, sent at the same moments: a direct loopback path (socket
 * D1 → D2, no relay: what the kernel and this process's own event loop add
 * under the same machine load), and, with --ref-port, a path through the
 * smallest possible relay in another process (udp-relay.ts: D3 → relay →
 * D4), which adds what any relay process costs on this machine (waking
 * another process, its event loop, its wait for a CPU). The gateway's added
 * delay is the through-gateway figure minus the direct one; the reference
 * relay shows how much of that any relay would have.
 *
 * Control: line commands on stdin, JSON answers on stdout.
 *   window  → the statistics of the packets sent since the previous `window`
 *             (up to 2 s ago, so late packets have time to arrive), then
 *             a new window starts
 *   quit    → exits
 */
import { createSocket, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'a-port': { type: 'string' },
    'b-port': { type: 'string' },
    'gw-a': { type: 'string' },
    'gw-b': { type: 'string' },
    'direct-port': { type: 'string' },
    'ref-port': { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'interval-ms': { type: 'string', default: '20' },
  },
});

const HOST = String(values.host);
const A_PORT = Number(values['a-port']);
const B_PORT = Number(values['b-port']);
const GW_A = Number(values['gw-a']);
const GW_B = Number(values['gw-b']);
const D_PORT = Number(values['direct-port'] ?? A_PORT + 4);
/** Where the reference relay listens (it sends to D_PORT + 6); none when absent. */
const REF_PORT = values['ref-port'] === undefined ? undefined : Number(values['ref-port']);
const INTERVAL_MS = Number(values['interval-ms']);
/**
 * Packets still missing this long after they were sent count as lost (for a
 * call they are: no jitter buffer waits 2 s). Also how far behind "now" a
 * window ends, so every packet in it had this long to arrive.
 */
const LATE_MS = 2000;
const PAYLOAD = 160; // 20 ms of PCMU

type Path = 'a-to-b' | 'b-to-a' | 'direct' | 'reference';

interface Sent {
  at: bigint;
  path: Path;
  /** The tick it was sent in: every path sends one packet per tick, back to back. */
  tick: number;
  receivedAt?: bigint;
}

const now = (): bigint => process.hrtime.bigint();

function bind(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, HOST, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

/** RTP header (RFC 3550 §5.1): V=2, PT 0 (PCMU), then our seq and send time in the payload. */
function packet(rtpSeq: number, ssrc: number, probeSeq: number, sentAt: bigint): Buffer {
  const b = Buffer.alloc(12 + PAYLOAD, 0xff);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(rtpSeq & 0xffff, 2);
  b.writeUInt32BE((rtpSeq * PAYLOAD) >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  b.writeUInt32BE(probeSeq >>> 0, 12);
  b.writeBigUInt64BE(sentAt, 16);
  return b;
}

const sent = new Map<number, Sent>();
let probeSeq = 0;
let rtpSeq = 0;
let windowStart = now();
let extraReceived = 0;

function onPacket(path: Path, msg: Buffer): void {
  const t = now();
  if (msg.length < 24) return;
  const seq = msg.readUInt32BE(12);
  const s = sent.get(seq);
  if (!s || s.path !== path || s.receivedAt !== undefined) {
    extraReceived++;
    return;
  }
  s.receivedAt = t;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

function windowReport(): Record<string, unknown> {
  const end = now() - BigInt(LATE_MS) * 1_000_000n;
  const per: Record<Path, { sent: number; received: number; delaysUs: number[] }> = {
    'a-to-b': { sent: 0, received: 0, delaysUs: [] },
    'b-to-a': { sent: 0, received: 0, delaysUs: [] },
    direct: { sent: 0, received: 0, delaysUs: [] },
    reference: { sent: 0, received: 0, delaysUs: [] },
  };
  // Per tick, the direct packet's delay: a packet through the gateway minus the direct one sent with
  // it is what the gateway added to that packet, free of what both paths paid alike (the probe's own
  // wait for a CPU to send and to read them).
  const directByTick = new Map<number, number>();
  for (const s of sent.values()) {
    if (s.path === 'direct' && s.receivedAt !== undefined && s.at >= windowStart && s.at < end) directByTick.set(s.tick, Number(s.receivedAt - s.at) / 1000);
  }
  const pairedUs: number[] = [];
  for (const [seq, s] of sent) {
    if (s.at < windowStart) {
      sent.delete(seq);
      continue;
    }
    if (s.at >= end) continue;
    const p = per[s.path];
    p.sent++;
    if (s.receivedAt !== undefined) {
      p.received++;
      const d = Number(s.receivedAt - s.at) / 1000;
      p.delaysUs.push(d);
      const direct = directByTick.get(s.tick);
      if ((s.path === 'a-to-b' || s.path === 'b-to-a') && direct !== undefined) pairedUs.push(d - direct);
    }
    sent.delete(seq);
  }
  const seconds = Number(end - windowStart) / 1e9;
  windowStart = end;
  const summary = (p: { sent: number; received: number; delaysUs: number[] }) => {
    const d = p.delaysUs.sort((x, y) => x - y);
    return {
      sent: p.sent,
      received: p.received,
      lost: p.sent - p.received,
      delayUs: { p50: percentile(d, 50), p99: percentile(d, 99), max: d.length ? d[d.length - 1]! : NaN, mean: d.length ? d.reduce((a, b) => a + b, 0) / d.length : NaN },
    };
  };
  const gw = { sent: per['a-to-b'].sent + per['b-to-a'].sent, received: 0, delaysUs: [...per['a-to-b'].delaysUs, ...per['b-to-a'].delaysUs] };
  gw.received = gw.delaysUs.length;
  const r = {
    seconds,
    aToB: summary(per['a-to-b']),
    bToA: summary(per['b-to-a']),
    throughGateway: summary(gw),
    direct: summary(per.direct),
    /** Through the gateway minus the direct packet of the same tick, per packet. */
    pairedAddedUs: (() => {
      const d = pairedUs.sort((x, y) => x - y);
      return { n: d.length, p50: percentile(d, 50), p99: percentile(d, 99), max: d.length ? d[d.length - 1]! : NaN };
    })(),
    ...(REF_PORT !== undefined ? { reference: summary(per.reference) } : {}),
    extraReceived,
  };
  extraReceived = 0;
  return r;
}

async function main(): Promise<void> {
  const a = await bind(A_PORT);
  const b = await bind(B_PORT);
  const d1 = await bind(D_PORT);
  const d2 = await bind(D_PORT + 2);
  const d3 = await bind(D_PORT + 4);
  const d4 = await bind(D_PORT + 6);
  a.on('message', (m) => onPacket('b-to-a', m));
  b.on('message', (m) => onPacket('a-to-b', m));
  d2.on('message', (m) => onPacket('direct', m));
  d4.on('message', (m) => onPacket('reference', m));
  const ssrcA = 0x5a5a0001;
  const ssrcB = 0x5a5a0002;
  const ssrcD = 0x5a5a0003;
  const paths: Array<readonly [Path, Socket, number, number]> = [
    ['a-to-b', a, GW_A, ssrcA],
    ['b-to-a', b, GW_B, ssrcB],
    ['direct', d1, D_PORT + 2, ssrcD],
  ];
  if (REF_PORT !== undefined) paths.push(['reference', d3, REF_PORT, 0x5a5a0004]);

  const tick = (): void => {
    rtpSeq++;
    for (const [path, sock, port, ssrc] of paths) {
      const seq = probeSeq++;
      const at = now();
      sent.set(seq, { at, path, tick: rtpSeq });
      sock.send(packet(rtpSeq, ssrc, seq, at), port, HOST);
    }
  };
  // A fixed-rate schedule that does not drift: each tick is planned from the start time.
  const started = Date.now();
  let n = 0;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    n++;
    timer = setTimeout(() => {
      tick();
      schedule();
    }, Math.max(0, started + n * INTERVAL_MS - Date.now()));
  };
  schedule();

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'window') process.stdout.write(`${JSON.stringify(windowReport())}\n`);
    else if (cmd === 'quit') {
      clearTimeout(timer);
      for (const s of [a, b, d1, d2, d3, d4]) s.close();
      rl.close();
    }
  });
  rl.on('close', () => {
    clearTimeout(timer);
    process.exit(0);
  });
  process.stdout.write(`${JSON.stringify({ ready: true, ports: { a: A_PORT, b: B_PORT, direct: [D_PORT, D_PORT + 2], reference: [D_PORT + 4, D_PORT + 6] } })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
