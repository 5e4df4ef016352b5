/**
 * The media anchor with packet forwarding in worker threads.
 *
 *   main thread (SIP, PBX, admin API)            media worker i (own event loop)
 *   ThreadedMediaRelay ── open/sdp/bridge/close ──▶ MediaRelay on ports [min_i, max_i]
 *     RemoteLeg (proxy) ◀── latched/dead/log ─────   MediaLeg … sockets, latching, renumbering
 *     stats() reads the leg's counter row  ◀═══════  writes it (SharedArrayBuffer)
 *
 * Why: one event loop doing SIP, timers, logging and tens of thousands of
 * RTP packets a second makes every packet wait behind everything else
 * (docs/BENCHMARKS.md). A worker's loop does nothing but forward, and
 * several workers use several cores. Packets never cross threads: both legs
 * of a call are opened on the same worker (OpenLegOptions.affinity), and the
 * port range is split so each worker binds its own share.
 *
 * A worker that dies takes its legs' media with it: each of its legs raises
 * `dead` (silentMs 0) so the PBX ends those calls and logs why, and a fresh
 * worker takes its place for new calls.
 */
import { EventEmitter } from 'node:events';
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger, LogLevel } from '../../util/logger.js';
import { PgwError } from '../../util/errors.js';
import { describeLegConfig, emptyLegConfig, legConfigFromSdp } from './leg-config.js';
import type { LegConfig, LegFlow, LegSdp } from './leg-config.js';
import { LEG_COUNTER_COUNT, LC, readLegCounters } from './leg-counters.js';
import type { LegCounters } from './leg-counters.js';
import type { LegStats } from './leg-stats.js';
import type { MediaLegEvents } from './media-leg.js';
import { DEFAULT_DEAD_AFTER_MS, DEFAULT_RELATCH_AFTER_MS } from './media-relay.js';
import type { LegState, MediaAnchor, MediaRelayEvents, OpenLegOptions, RelayLeg } from './relay-api.js';
import type { FromWorker, MediaWorkerData, ToWorker, WorkerErrorInfo } from './worker/protocol.js';
import { KernelOffload } from '../offload/kernel-offload.js';
import { spawnNft } from '../offload/nft-exec.js';

export interface ThreadedMediaRelayOptions {
  logger: Logger;
  /** Worker threads (>= 1). */
  workers: number;
  /** The RTP port range, split between the workers. */
  portMin: number;
  portMax: number;
  deadAfterMs?: number;
  deadCheckIntervalMs?: number;
  relatchAfterMs?: number;
  recvBufferSize?: number;
  /** Nice value of the worker threads (default MEDIA_NICE: ahead of everything else on the box). */
  nice?: number;
  /** The workers may use the kernel fast path (its nft table already installed: KernelOffload.install). */
  kernelForwarding?: boolean;
}

/** Media threads run ahead of SIP and housekeeping when the CPUs are busy (Linux nice -10). */
export const MEDIA_NICE = -10;

/**
 * Default worker count: one per core, at most four. The workers run at a higher priority than
 * SIP, so they take the cores when media needs them and leave them to SIP when it does not; on
 * the 2-core bench machine two workers halved the tail at 500 calls against one (docs/BENCHMARKS.md).
 */
export function defaultMediaWorkers(): number {
  return Math.max(1, Math.min(4, cpus().length));
}

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

/**
 * How to start the worker: the bundle (dist/) ships it as media-worker.js
 * next to cli.js; from the TypeScript sources (tests, `tsx`) the worker
 * registers tsx first, as a worker does not inherit the parent's loader.
 */
function workerEntry(): { script: string | URL; eval: boolean } {
  if (import.meta.url.endsWith('.ts')) {
    const src = new URL('./worker/relay-worker.ts', import.meta.url).href;
    return { script: `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(src)});`, eval: true };
  }
  return { script: new URL('./media-worker.js', import.meta.url), eval: false };
}

type Reply = Extract<FromWorker, { ev: 'reply' }>;
/** What a worker reports about one of its legs. */
type LegEvent = Extract<FromWorker, { ev: 'latched' | 'dead' }>;

function toError(e: WorkerErrorInfo): Error {
  if (e.code === 'PGW_E_MEDIA_PORTS') return new PgwError('PGW_E_MEDIA_PORTS', e.message, { context: e.context });
  return new Error(e.message);
}

/** A leg whose packets a media worker forwards; what the PBX holds. */
class RemoteLeg extends EventEmitter<MediaLegEvents> implements RelayLeg {
  readonly id: string;
  readonly label: string | null;
  readonly localAddress: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  /** @internal */
  stateValue: LegState = 'idle';
  /** @internal */
  peerLeg: RemoteLeg | null = null;
  /** @internal where the worker latched RTP to (from its events). */
  latched: { address: string; port: number } | null = null;
  /** @internal rx packet count when dead media was reported; null: not dead. */
  deadAtRx: number | null = null;
  private config: LegConfig | null = null;

  constructor(
    /** @internal */
    readonly link: WorkerLink,
    /** @internal */
    readonly row: number,
    private readonly counters: LegCounters,
    init: { id: string; label: string | null; localAddress: string; rtpPort: number; rtcpPort: number },
  ) {
    super();
    this.id = init.id;
    this.label = init.label;
    this.localAddress = init.localAddress;
    this.rtpPort = init.rtpPort;
    this.rtcpPort = init.rtcpPort;
  }

  get state(): LegState {
    return this.stateValue;
  }

  get peer(): RelayLeg | null {
    return this.peerLeg;
  }

  get flow(): Readonly<LegFlow> {
    return this.config?.flow ?? { toLeg: false, fromLeg: false };
  }

  setSdp(sdp: LegSdp): void {
    if (this.stateValue === 'closed') throw new PgwError('PGW_E_STATE_TRANSITION', `media leg ${this.id}: closed → active is not allowed`, { context: { leg: this.id } });
    const next = legConfigFromSdp(sdp);
    const prev = this.config?.remote ?? null;
    // The worker unlatches when the address moves (MediaLeg.setSdp); mirror it until it latches again.
    if (prev !== null && (prev.address !== next.remote?.address || prev.port !== next.remote?.port)) this.latched = null;
    this.config = next;
    this.stateValue = 'active';
    this.link.send({ op: 'sdp', row: this.row, sdp });
  }

  stats(): LegStats {
    return this.statsFrom(this.counters);
  }

  /** @internal the stats with the counters of `row` (the live row, or its snapshot copy). */
  statsFrom(row: LegCounters): LegStats {
    const counters = readLegCounters(row);
    return {
      id: this.id,
      label: this.label,
      state: this.stateValue,
      localAddress: this.localAddress,
      rtpPort: this.rtpPort,
      rtcpPort: this.rtcpPort,
      ...describeLegConfig(this.config ?? emptyLegConfig()),
      latched: this.latched ? { ...this.latched } : null,
      peer: this.peerLeg?.id ?? null,
      ...counters,
      dead: this.deadAtRx !== null && this.deadAtRx === counters.rx.packets,
    };
  }

  /** @internal the rx count now (for the dead flag). */
  rxPackets(): number {
    return this.counters[LC.rxPackets]!;
  }

  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    if (this.peerLeg) {
      this.peerLeg.peerLeg = null;
      this.peerLeg = null;
    }
    await this.link.closeLeg(this);
    this.emit('closed', this);
  }
}

/** One media worker and the legs it forwards. */
class WorkerLink {
  private worker: Worker | null = null;
  private nextReq = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  /** @internal */
  readonly legs = new Map<number, RemoteLeg>();
  private readonly counters: Float64Array;
  private readonly sab: SharedArrayBuffer;
  private readonly snapshotSab: SharedArrayBuffer;
  private readonly snapshotRows: Float64Array;
  private ready: Promise<void> | null = null;
  private stopping = false;

  constructor(
    readonly index: number,
    private readonly data: Omit<MediaWorkerData, 'index' | 'counters' | 'snapshot'>,
    private readonly log: Logger,
    private readonly onLegLost: (leg: RemoteLeg) => void,
    private readonly onEvent: (m: LegEvent, leg: RemoteLeg | undefined) => void,
  ) {
    const rows = Math.floor((data.portMax - data.portMin + 1) / 2) + 1;
    this.sab = new SharedArrayBuffer(rows * LEG_COUNTER_COUNT * Float64Array.BYTES_PER_ELEMENT);
    this.counters = new Float64Array(this.sab);
    this.snapshotSab = new SharedArrayBuffer(this.sab.byteLength);
    this.snapshotRows = new Float64Array(this.snapshotSab);
  }

  get legCount(): number {
    return this.legs.size;
  }

  /** Start the thread (again after a crash); resolves when it can take legs. */
  start(): Promise<void> {
    if (this.ready) return this.ready;
    const entry = workerEntry();
    const workerData: MediaWorkerData = { ...this.data, index: this.index, counters: this.sab, snapshot: this.snapshotSab };
    const worker = new Worker(entry.script, { eval: entry.eval, workerData, name: `pgw-media-${this.index}` });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      const onEarlyExit = (code: number): void => reject(new Error(`media worker ${this.index} exited with code ${code} while starting`));
      worker.once('exit', onEarlyExit);
      worker.on('message', (m: FromWorker) => {
        if (m.ev === 'ready') {
          worker.off('exit', onEarlyExit);
          resolve();
          return;
        }
        this.onMessage(m);
      });
    });
    worker.on('error', (err) => this.log.error({ worker: this.index, err: err.message, stack: err.stack }, 'media worker failed'));
    worker.on('exit', (code) => this.onExit(worker, code));
    return this.ready;
  }

  private onMessage(m: Exclude<FromWorker, { ev: 'ready' }>): void {
    if (m.ev === 'reply') {
      const p = this.pending.get(m.req);
      if (!p) return;
      this.pending.delete(m.req);
      p.resolve(m);
      return;
    }
    if (m.ev === 'log') {
      this.log[m.level](m.obj, m.msg);
      return;
    }
    this.onEvent(m, this.legs.get(m.row));
  }

  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.ready = null;
    for (const p of this.pending.values()) p.reject(new PgwError('PGW_E_MEDIA_PORTS', `media worker ${this.index} stopped (exit code ${code})`));
    this.pending.clear();
    const lost = [...this.legs.values()];
    this.legs.clear();
    if (this.stopping) return;
    this.log.error({ worker: this.index, code, legs: lost.length }, 'media worker stopped: its calls lose media; starting a new one');
    for (const leg of lost) {
      leg.stateValue = 'closed';
      this.onLegLost(leg);
    }
    const restart = async (): Promise<void> => {
      // Its flows in the kernel fast path would go on forwarding onto ports the new worker binds again.
      if (this.data.kernel) {
        const purged = await KernelOffload.purgePorts(spawnNft(), this.data.portMin, this.data.portMax).catch((e: unknown) => {
          this.log.error({ worker: this.index, err: e instanceof Error ? e.message : String(e) }, 'could not remove the dead media worker\'s kernel flows');
          return 0;
        });
        if (purged > 0) this.log.warn({ worker: this.index, flows: purged }, 'removed the dead media worker\'s kernel flows');
      }
      await this.start();
    };
    restart().catch((err: unknown) => this.log.error({ worker: this.index, err: err instanceof Error ? err.message : String(err) }, 'media worker could not be restarted'));
  }

  /** @internal */
  send(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  private async request(m: ToWorker extends infer T ? (T extends { req: number } ? Omit<T, 'req'> : never) : never): Promise<Reply> {
    await this.start();
    const worker = this.worker;
    if (!worker) throw new PgwError('PGW_E_MEDIA_PORTS', `media worker ${this.index} is not running`);
    const req = this.nextReq++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(req, { resolve, reject });
      worker.postMessage({ ...m, req } as ToWorker);
    });
  }

  async openLeg(id: string, options: OpenLegOptions): Promise<RemoteLeg> {
    const reply = await this.request({ op: 'open', address: options.localAddress, label: options.label ?? null });
    if (!reply.ok) throw toError(reply.error);
    const { row, rtpPort, rtcpPort } = reply.leg!;
    const counters = this.counters.subarray(row * LEG_COUNTER_COUNT, (row + 1) * LEG_COUNTER_COUNT);
    const leg = new RemoteLeg(this, row, counters, { id, label: options.label ?? null, localAddress: options.localAddress, rtpPort, rtcpPort });
    this.legs.set(row, leg);
    return leg;
  }

  /** Each open leg's stats as the worker copied them between two packets. */
  async snapshot(into: Map<RelayLeg, LegStats>): Promise<void> {
    if (this.legs.size === 0) return;
    const reply = await this.request({ op: 'snapshot' });
    if (!reply.ok) throw toError(reply.error);
    for (const [row, leg] of this.legs) {
      into.set(leg, leg.statsFrom(this.snapshotRows.subarray(row * LEG_COUNTER_COUNT, (row + 1) * LEG_COUNTER_COUNT)));
    }
  }

  async closeLeg(leg: RemoteLeg): Promise<void> {
    if (this.legs.get(leg.row) !== leg) return; // lost with a worker that stopped: nothing left to close
    try {
      const reply = await this.request({ op: 'close', row: leg.row });
      if (!reply.ok) this.log.warn({ leg: leg.id, err: reply.error.message }, 'media leg close failed in the worker');
    } finally {
      if (this.legs.get(leg.row) === leg) this.legs.delete(leg.row);
    }
  }

  /** @internal end the thread as a crash would (tests). */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    try {
      await Promise.race([this.request({ op: 'shutdown' }), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      /* it stopped by itself */
    }
    await worker.terminate();
  }
}

export class ThreadedMediaRelay extends EventEmitter<MediaRelayEvents> implements MediaAnchor {
  readonly deadAfterMs: number;
  private readonly log: Logger;
  private readonly links: WorkerLink[] = [];
  private readonly byAffinity = new Map<string, { link: WorkerLink; legs: number }>();
  private nextId = 1;

  constructor(options: ThreadedMediaRelayOptions) {
    super();
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError(`media workers must be a whole number >= 1, not ${options.workers}`);
    this.log = options.logger.child({ component: 'media' });
    this.deadAfterMs = options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    const min = options.portMin + (options.portMin % 2);
    const pairs = Math.floor((options.portMax - min + 1) / 2);
    if (pairs < options.workers) throw new RangeError(`RTP port range ${options.portMin}-${options.portMax} is too small for ${options.workers} media workers`);
    const logLevels = LOG_LEVELS.filter((l) => options.logger.isLevelEnabled(l));
    for (let i = 0; i < options.workers; i++) {
      // Contiguous shares of whole pairs: worker i gets pairs [i*pairs/n, (i+1)*pairs/n).
      const first = Math.floor((i * pairs) / options.workers);
      const last = Math.floor(((i + 1) * pairs) / options.workers) - 1;
      const data = {
        portMin: min + 2 * first,
        portMax: min + 2 * last + 1,
        deadAfterMs: this.deadAfterMs,
        deadCheckIntervalMs: options.deadCheckIntervalMs,
        relatchAfterMs: options.relatchAfterMs ?? DEFAULT_RELATCH_AFTER_MS,
        recvBufferSize: options.recvBufferSize,
        nice: options.nice ?? MEDIA_NICE,
        logLevels,
        kernel: options.kernelForwarding ? { portMin: options.portMin, portMax: options.portMax } : null,
      };
      this.links.push(new WorkerLink(i, data, this.log, (leg) => this.legLost(leg), (m, leg) => this.onWorkerEvent(m, leg)));
    }
  }

  /** Start every worker; rejects if one cannot start (the gateway should not run without media). */
  async start(): Promise<void> {
    await Promise.all(this.links.map((l) => l.start()));
    this.log.info({ workers: this.links.length }, 'media workers running');
  }

  get workers(): number {
    return this.links.length;
  }

  get legCount(): number {
    return this.links.reduce((n, l) => n + l.legCount, 0);
  }

  private pick(affinity: string | undefined): WorkerLink {
    const bound = affinity === undefined ? undefined : this.byAffinity.get(affinity);
    if (bound) return bound.link;
    let best = this.links[0]!;
    for (const l of this.links) if (l.legCount < best.legCount) best = l;
    return best;
  }

  async openLeg(options: OpenLegOptions): Promise<RelayLeg> {
    const link = this.pick(options.affinity);
    const key = options.affinity;
    if (key !== undefined) {
      const entry = this.byAffinity.get(key) ?? { link, legs: 0 };
      entry.legs++;
      this.byAffinity.set(key, entry);
    }
    const release = (): void => {
      if (key === undefined) return;
      const entry = this.byAffinity.get(key);
      if (entry && --entry.legs <= 0) this.byAffinity.delete(key);
    };
    let leg: RemoteLeg;
    try {
      leg = await link.openLeg(`m${link.index}.${this.nextId++}`, options);
    } catch (e) {
      release();
      throw e;
    }
    leg.once('closed', release);
    this.log.debug({ leg: leg.id, label: leg.label, worker: link.index, address: leg.localAddress, rtpPort: leg.rtpPort }, 'media leg opened');
    return leg;
  }

  private own(leg: RelayLeg): RemoteLeg {
    if (!(leg instanceof RemoteLeg) || leg.state === 'closed' || leg.link.legs.get(leg.row) !== leg) throw new RangeError(`media leg ${leg.id} is closed or not ours`);
    return leg;
  }

  bridge(legA: RelayLeg, legB: RelayLeg): void {
    if (legA === legB) throw new RangeError('cannot bridge a leg to itself');
    const a = this.own(legA);
    const b = this.own(legB);
    if (a.link !== b.link) throw new RangeError(`media legs ${a.id} and ${b.id} are on different workers: open them with the same affinity`);
    if (a.peerLeg === b) return;
    this.unbridge(a);
    this.unbridge(b);
    a.peerLeg = b;
    b.peerLeg = a;
    a.link.send({ op: 'bridge', a: a.row, b: b.row });
    a.deadAtRx = null;
    b.deadAtRx = null;
    this.log.info({ a: a.id, b: b.id, aLabel: a.label, bLabel: b.label }, 'media bridged');
  }

  unbridge(relayLeg: RelayLeg): void {
    if (!(relayLeg instanceof RemoteLeg)) return;
    const peer = relayLeg.peerLeg;
    if (!peer) return;
    peer.peerLeg = null;
    relayLeg.peerLeg = null;
    if (relayLeg.state !== 'closed') relayLeg.link.send({ op: 'unbridge', row: relayLeg.row });
  }

  stats(): LegStats[] {
    return this.links.flatMap((l) => [...l.legs.values()].map((leg) => leg.stats()));
  }

  async snapshot(): Promise<Map<RelayLeg, LegStats>> {
    const out = new Map<RelayLeg, LegStats>();
    await Promise.all(this.links.map((l) => l.snapshot(out)));
    return out;
  }

  private onWorkerEvent(m: LegEvent, leg: RemoteLeg | undefined): void {
    if (!leg) return;
    switch (m.ev) {
      case 'latched': {
        if (m.kind === 'rtp') leg.latched = { address: m.address, port: m.port };
        const e = { leg, kind: m.kind, address: m.address, port: m.port, relatch: m.relatch };
        leg.emit('latched', e);
        this.emit('latched', e);
        return;
      }
      case 'dead': {
        leg.deadAtRx = leg.rxPackets();
        const e = { leg, silentMs: m.silentMs };
        leg.emit('dead', e);
        this.emit('dead', e);
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`unknown media worker event ${JSON.stringify(never)}`);
      }
    }
  }

  /** A leg whose worker stopped: its media is gone, so its call must end. */
  private legLost(leg: RemoteLeg): void {
    leg.deadAtRx = leg.rxPackets();
    const e = { leg, silentMs: 0 };
    leg.emit('dead', e);
    this.emit('dead', e);
    if (leg.peerLeg) leg.peerLeg.peerLeg = null;
    leg.peerLeg = null;
    leg.emit('closed', leg);
  }

  /** @internal stop worker `index` the way a crash would, to test recovery. */
  killWorkerForTest(index: number): Promise<void> {
    return this.links[index]!.kill();
  }

  async close(): Promise<void> {
    await Promise.all(this.links.map((l) => l.stop()));
  }
}
