/**
 * What completed SIP transactions keep in memory under a REGISTER storm
 * (issue 2, "Memory under SIP load" in docs/BENCHMARKS.md).
 *
 * The real transaction layer and the real registrar (digest auth, location
 * service, failure throttle) run on a fake clock behind a fake transport that
 * does what the UDP transport does to a datagram (parse, stamp received/rport)
 * and serializes every response. Stand-in phones run SIPp's register-auth
 * scenario: REGISTER, 401, REGISTER with digest credentials, 200; each
 * REGISTER is one server transaction, kept for Timer J (64*T1 = 32 s on UDP,
 * RFC 3261 §17.2.2) after its final response.
 *
 * Steps: a warm-up registers every phone once and lets the transactions
 * expire (the location service's bindings are live data whatever the
 * transaction layer does, so they are in the baseline); then --count REGISTER
 * transactions arrive at --rate per second of fake time; at the end (all of
 * them inside the Timer J window at the default 80,000 at 2,500/s) the heap is
 * measured after GC, then again after the fake clock passes Timer J.
 *
 *   node --expose-gc --import tsx tests/bench/sip/transaction-memory.ts [--count 80000] [--rate 2500] [--max N] [--snapshot 5000]
 *
 * --snapshot N also runs N transactions between two heap snapshots and prints
 * the objects and bytes they retain per live transaction, by kind.
 * --timeouts N measures what one pending Node setTimeout (the production
 * clock's timer) keeps, which the fake clock here does not.
 *
 * Not part of `make bench` (it lives in a sub-folder): a development
 * measurement, run on its own, single-threaded and short (a few seconds).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import type { Clock, TimerHandle } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { parseMessage, serializeMessage } from '../../../firmware/src/sip/message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../firmware/src/sip/message/types.js';
import type { Endpoint, InboundMessage, SendOptions, TransportLayer } from '../../../firmware/src/sip/transport/api.js';
import { readTopVia, stampReceived } from '../../../firmware/src/sip/transport/via-stamp.js';
import { createTransactionLayer } from '../../../firmware/src/sip/transaction/transaction-layer.js';
import type { SipTransactionLayer } from '../../../firmware/src/sip/transaction/transaction-layer.js';
import { createDigestServer, answerChallenge } from '../../../firmware/src/sip/auth/index.js';
import { createDirectory } from '../../../firmware/src/pbx/directory.js';
import { FailureThrottle } from '../../../firmware/src/pbx/failure-throttle.js';
import { LocationService } from '../../../firmware/src/pbx/location-service.js';
import { Registrar } from '../../../firmware/src/pbx/registrar.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '80000' },
    rate: { type: 'string', default: '2500' },
    phones: { type: 'string', default: '2000' },
    snapshot: { type: 'string', default: '0' },
    timeouts: { type: 'string', default: '0' },
    /** The layer's bound on completed non-INVITE transactions (maxCompletedNonInvite); default: the layer's. */
    max: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const COUNT = Math.max(2, Number(values.count));
const RATE = Math.max(1, Number(values.rate));
const PHONES = Math.max(1, Number(values.phones));
const SNAPSHOT = Math.max(0, Number(values.snapshot));
const TIMEOUTS = Math.max(0, Number(values.timeouts));
const MAX = values.max === undefined ? undefined : Math.max(1, Number(values.max));
/** Longer than every timer a completed server transaction runs (Timer J, 32 s). */
const DRAIN_MS = 40_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

/** A fake clock on a binary heap: FakeClock scans all its timers per step, too slow for 80,000 pending. */
class HeapClock implements Clock {
  private t = 1_700_000_000_000;
  private seq = 0;
  private heap: Array<{ due: number; seq: number; fn: (() => void) | undefined }> = [];
  now(): number {
    return this.t;
  }
  monotonic(): number {
    return this.t;
  }
  pending(): number {
    return this.heap.filter((x) => x.fn).length;
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const entry: { due: number; seq: number; fn: (() => void) | undefined } = { due: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.push(entry);
    return {
      cancel: () => {
        entry.fn = undefined;
      },
    };
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const top = this.heap[0];
      if (!top || top.due > end) break;
      this.pop();
      if (!top.fn) continue;
      this.t = Math.max(this.t, top.due);
      const fn = top.fn;
      top.fn = undefined;
      fn();
    }
    this.t = end;
  }
  private less(a: { due: number; seq: number }, b: { due: number; seq: number }): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }
  private push(e: { due: number; seq: number; fn: (() => void) | undefined }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

const LOCAL: Endpoint = { protocol: 'udp', address: '192.0.2.1', port: 5060 };
const DOMAIN = 'riverside.pgw.local';

/** The UDP transport's inbound pipeline and outbound serialization, without sockets. */
class BenchTransport implements TransportLayer {
  private handler: ((m: InboundMessage) => void) | undefined;
  /** The phone waiting for a response: the bench is synchronous, one request at a time. */
  onResponse: ((bytes: Buffer) => void) | undefined;
  sent = 0;
  send(message: SipMessage, _destination: Endpoint, _options?: SendOptions): Promise<void> {
    const bytes = serializeMessage(message);
    this.sent++;
    this.onResponse?.(bytes);
    return Promise.resolve();
  }
  onMessage(handler: (inbound: InboundMessage) => void): () => void {
    this.handler = handler;
    return () => {
      this.handler = undefined;
    };
  }
  localFor(): Endpoint {
    return LOCAL;
  }
  listening(): Endpoint[] {
    return [LOCAL];
  }
  async close(): Promise<void> {}
  deliver(datagram: Buffer, source: Endpoint): void {
    const parsed = parseMessage(datagram);
    if (!parsed.ok) throw new Error(parsed.error);
    const via = readTopVia(parsed.message)!;
    stampReceived(parsed.message, via, source);
    this.handler?.({ message: parsed.message, source, local: LOCAL });
  }
}

interface World {
  clock: HeapClock;
  transport: BenchTransport;
  layer: SipTransactionLayer;
  location: LocationService;
  /** Run n REGISTER transactions (n/2 authenticated registrations) at RATE per second. */
  run(n: number): Promise<void>;
}

function buildWorld(): World {
  const clock = new HeapClock();
  const logger = silentLogger();
  const extensions = Array.from({ length: PHONES }, (_, i) => ({ number: String(2000 + i), name: `Phone ${i}`, password: `secret-${i}` }));
  const directory = createDirectory({ domain: DOMAIN, extensions });
  const location = new LocationService(clock);
  const throttle = new FailureThrottle({ clock });
  const auth = createDigestServer({ realm: DOMAIN, clock });
  const registrar = new Registrar({ clock, logger, location, directory: () => directory, auth, throttle });
  const transport = new BenchTransport();
  // The option is passed only when asked for, so that the script runs against older layers too.
  const layer = createTransactionLayer({ transport, clock, logger, ...(MAX === undefined ? {} : { maxCompletedNonInvite: MAX }) });
  layer.setUser({ onRequest: (request, tx, inbound) => (tx && request.method === 'REGISTER' ? registrar.handle(request, tx, inbound) : undefined) });

  const cseqs = new Array<number>(PHONES).fill(0);
  let branch = 0;
  function registerText(phone: number, authorization?: [string, string]): string {
    const user = String(2000 + phone);
    const port = 20_000 + (phone % 40_000);
    const address = `10.1.${(phone >> 8) & 255}.${phone & 255}`;
    return (
      `REGISTER sip:${DOMAIN} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-bench-${++branch};rport\r\n` +
      `From: <sip:${user}@${DOMAIN}>;tag=1234SIPpTag00${phone}\r\n` +
      `To: <sip:${user}@${DOMAIN}>\r\n` +
      `Call-ID: ${phone}-1234@${address}\r\n` +
      `CSeq: ${++cseqs[phone]!} REGISTER\r\n` +
      `Contact: <sip:${user}@${address}:${port};transport=UDP>\r\n` +
      (authorization ? `${authorization[0]}: ${authorization[1]}\r\n` : '') +
      'Max-Forwards: 70\r\nExpires: 300\r\nUser-Agent: SIPp pgw-tests\r\nContent-Length: 0\r\n\r\n'
    );
  }
  const source = (phone: number): Endpoint => ({ protocol: 'udp', address: `10.1.${(phone >> 8) & 255}.${phone & 255}`, port: 20_000 + (phone % 40_000) });

  let next = 0;
  async function run(n: number): Promise<void> {
    const step = 1000 / RATE;
    for (let i = 0; i < n; i += 2) {
      // The gateway gets each datagram in its own event-loop turn, so promise
      // reactions (a send's completion) run between them; a loop that never
      // yields would keep every one pending, with the transaction it names.
      if (i % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
      const phone = next++ % PHONES;
      let challenge: SipResponse | undefined;
      transport.onResponse = (bytes) => {
        const r = parseMessage(bytes);
        if (r.ok && r.message.kind === 'response') challenge = r.message;
      };
      const first = registerText(phone);
      transport.deliver(Buffer.from(first), source(phone));
      if (!challenge || challenge.status !== 401) throw new Error(`expected 401, got ${challenge?.status}`);
      const request = (parseMessage(Buffer.from(first)) as { message: SipRequest }).message;
      const header = answerChallenge({ response: challenge, request, username: String(2000 + phone), password: `secret-${phone}` });
      clock.advance(step);
      let ok: number | undefined;
      transport.onResponse = (bytes) => {
        ok = Number(bytes.toString('latin1', 8, 11));
      };
      transport.deliver(Buffer.from(registerText(phone, header)), source(phone));
      if (ok !== 200) throw new Error(`expected 200, got ${ok}`);
      transport.onResponse = undefined;
      clock.advance(step);
    }
  }
  return { clock, transport, layer, location, run };
}

function heap(): { heapUsed: number; rss: number; external: number } {
  for (let i = 0; i < 3; i++) gc!();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external + m.arrayBuffers };
}

const MB = (n: number): string => (n / 1024 / 1024).toFixed(1);

// ---- snapshot: what one live completed transaction retains, by kind -------

interface Census {
  count: Map<string, number>;
  bytes: Map<string, number>;
  nodes: number;
}

function census(dir: string, name: string): Census {
  const file = writeHeapSnapshot(join(dir, name));
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  rmSync(file);
  const fields = snap.snapshot.meta.node_fields;
  const F = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const count = new Map<string, number>();
  const bytes = new Map<string, number>();
  for (let i = 0; i < snap.nodes.length; i += F) {
    const type = types[snap.nodes[i + typeAt]!]!;
    let key: string;
    if (type === 'object' || type === 'closure') key = `${type} ${snap.strings[snap.nodes[i + nameAt]!]}`;
    else if (type === 'hidden' || type === 'code' || type === 'synthetic') key = '(V8 internal: hidden/code)';
    else key = type;
    count.set(key, (count.get(key) ?? 0) + 1);
    bytes.set(key, (bytes.get(key) ?? 0) + snap.nodes[i + sizeAt]!);
  }
  return { count, bytes, nodes: snap.nodes.length / F };
}

async function snapshotRun(n: number): Promise<Array<{ kind: string; objects: number; bytes: number }>> {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-txmem-'));
  try {
    const w = buildWorld();
    await w.run(2 * PHONES);
    w.clock.advance(DRAIN_MS);
    heap();
    const before = census(dir, 'before.heapsnapshot');
    await w.run(n);
    const live = w.layer.count().server;
    const after = census(dir, 'after.heapsnapshot');
    const rows: Array<{ kind: string; objects: number; bytes: number }> = [];
    for (const [kind, c] of after.count) {
      const objects = (c - (before.count.get(kind) ?? 0)) / live;
      const bytes = ((after.bytes.get(kind) ?? 0) - (before.bytes.get(kind) ?? 0)) / live;
      if (Math.abs(objects) >= 0.05 || Math.abs(bytes) >= 8) rows.push({ kind, objects, bytes });
    }
    rows.sort((a, b) => b.bytes - a.bytes);
    rows.unshift({ kind: `TOTAL (${live} live transactions)`, objects: (after.nodes - before.nodes) / live, bytes: rows.reduce((s, r) => s + r.bytes, 0) });
    w.layer.close();
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- what a pending Node timer costs (the production clock) -------------------

function timeoutCost(n: number): number {
  const before = heap().heapUsed;
  const handles: NodeJS.Timeout[] = [];
  for (let i = 0; i < n; i++) {
    const state = { i };
    // A closure over per-transaction state, as a transaction's timer callback has.
    const t = setTimeout(() => state.i++, 600_000 + i);
    t.unref();
    handles.push(t);
  }
  const after = heap().heapUsed;
  for (const t of handles) clearTimeout(t);
  // The handles array itself: 8 bytes a slot.
  return (after - before) / n - 8;
}

// ---- main -------------------------------------------------------------------

const w = buildWorld();
await w.run(2 * PHONES);
w.clock.advance(DRAIN_MS);
const base = heap();
const t0 = process.hrtime.bigint();
await w.run(COUNT);
const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
const live = w.layer.count().server;
const peak = heap();
w.clock.advance(DRAIN_MS);
const drained = heap();
const liveAfter = w.layer.count().server;

const result = {
  count: COUNT,
  ratePerSecond: RATE,
  phones: PHONES,
  bindings: w.location.count(),
  liveServerTransactionsAtPeak: live,
  liveServerTransactionsAfterTimerJ: liveAfter,
  pendingClockTimersAtEnd: w.clock.pending(),
  baseline: base,
  peak,
  drained,
  retainedBytesPerLiveTransaction: Math.round((peak.heapUsed - base.heapUsed) / live),
  externalBytesPerLiveTransaction: Math.round((peak.external - base.external) / live),
  cpuMsPerTransaction: +(elapsedMs / COUNT).toFixed(4),
};

console.log(`${COUNT} REGISTER transactions at ${RATE}/s (fake time), ${PHONES} phones, ${result.bindings} bindings`);
console.log(`live server transactions at the end: ${live}; after Timer J: ${liveAfter}`);
console.log(`heap used after GC: baseline ${MB(base.heapUsed)} MB, peak ${MB(peak.heapUsed)} MB, after Timer J ${MB(drained.heapUsed)} MB`);
console.log(`rss after GC:       baseline ${MB(base.rss)} MB, peak ${MB(peak.rss)} MB, after Timer J ${MB(drained.rss)} MB`);
console.log(`retained per live completed transaction: ${result.retainedBytesPerLiveTransaction} B heap, ${result.externalBytesPerLiveTransaction} B external`);
console.log(`CPU (this process, phones included): ${result.cpuMsPerTransaction} ms per transaction`);
w.layer.close();

if (TIMEOUTS > 0) {
  const perTimer = timeoutCost(TIMEOUTS);
  console.log(`one pending Node setTimeout with a small closure: ${Math.round(perTimer)} B heap (${TIMEOUTS} measured)`);
  Object.assign(result, { nodeTimeoutBytes: Math.round(perTimer) });
}

if (SNAPSHOT > 0) {
  const rows = await snapshotRun(SNAPSHOT);
  console.log(`\nheap snapshot diff, per live transaction (${SNAPSHOT} transactions):`);
  console.log('  objects    bytes  kind');
  for (const r of rows.slice(0, 25)) console.log(`${r.objects.toFixed(2).padStart(9)} ${r.bytes.toFixed(0).padStart(8)}  ${r.kind}`);
  Object.assign(result, { snapshot: rows.slice(0, 25).map((r) => ({ ...r, objects: +r.objects.toFixed(2), bytes: Math.round(r.bytes) })) });
}

if (values.json) console.log(`BENCH ${JSON.stringify(result)}`);
