/**
 * Network namespaces for integration tests: a private world per test with
 * veth links between nodes, addresses, and ways to break those links.
 *
 *   const topo = await createTopology({
 *     nodes: ['gw', 'lan', 'hscn'],
 *     links: [
 *       { a: 'gw', b: 'lan', subnet: '10.90.1.0/24' },   // gw = .1, lan = .2
 *       { a: 'gw', b: 'hscn', subnet: '10.90.2.0/24' },
 *     ],
 *   });
 *   try {
 *     topo.addr('lan', 'gw');           // '10.90.1.2'
 *     topo.spawn('gw', 'node', [...]);  // a process inside the gw namespace
 *     await topo.link('gw', 'hscn').cut();      // silent loss, link stays up
 *     await topo.link('gw', 'hscn').restore();
 *   } finally {
 *     await topo.destroy();
 *   }
 *
 * Why things are done this way (see /work/shared/TESTING-NOTES.md):
 * - Names are `pgwt-<pid>-<seq>-<node>` so parallel runs never collide, and a
 *   later run can tell a namespace whose owner died (sweepStaleNamespaces).
 * - veth ends are created directly inside their namespaces
 *   (`ip link add X netns A type veth peer name Y netns B`), so interface names
 *   only have to be unique per namespace and can say what they face (`to-gw`).
 * - The kernel here has no netem and no iptables: a silent cut is a
 *   `pfifo limit 0` root qdisc on both ends (every packet dropped, carrier up);
 *   `tc qdisc del ... root` restores the default.
 * - Deleting a namespace destroys the veths in it, but not the processes in
 *   it (they keep it alive): removal kills `ip netns pids` first.
 * - Cleanup runs on normal exit, on exceptions, and on SIGINT/SIGTERM/SIGHUP.
 *   A SIGKILL (the test runner's timeout) cannot be caught: the next run's
 *   sweep removes what was left.
 *
 * Everything here needs root (CAP_NET_ADMIN / CAP_SYS_ADMIN).
 */
import { readdirSync } from 'node:fs';
import { HarnessError, run, runOk, runSyncQuiet, spawnManaged, waitUntil } from './proc.js';
import type { ManagedProcess, RunOptions, RunResult } from './proc.js';
import type { SpawnOptions } from 'node:child_process';
import { spawnSync } from 'node:child_process';

/** Every namespace the harness creates starts with this. */
export const NETNS_PREFIX = 'pgwt-';
const NAME_RE = /^pgwt-(\d+)-/;

/** Namespaces created by this process and not yet removed. */
const owned = new Set<string>();
let seq = 0;
let swept = false;
let hooksInstalled = false;

/** `ip netns exec NS cmd args...` when a namespace is given, else the command itself. */
export function inNamespace(netns: string | undefined, cmd: string, args: readonly string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, [...args]];
}

/** Runs a command to completion inside `netns` (or in the root namespace when undefined). */
export function nsRun(netns: string | undefined, cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  const [c, a] = inNamespace(netns, cmd, args);
  return run(c, a, opts);
}

/** Spawns a long-running process inside `netns`; see spawnManaged for output capture and exit handling. */
export function nsSpawn(netns: string | undefined, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ManagedProcess {
  const [c, a] = inNamespace(netns, cmd, args);
  return spawnManaged(c, a, opts);
}

/** A fresh unique namespace name for `label` (letters, digits, '-' and '_' only). */
export function uniqueNetnsName(label: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(label)) throw new HarnessError(`bad namespace label '${label}'`);
  seq += 1;
  return `${NETNS_PREFIX}${process.pid}-${seq}-${label}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM means it exists but is not ours: alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Names of all namespaces on the machine (from /run/netns, where `ip netns add` puts them). */
export function listNamespaces(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

/** Kills every process inside a namespace and deletes it. Synchronous so exit handlers can use it. */
function removeNamespaceSync(name: string): void {
  const r = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8', timeout: 5_000 });
  for (const line of (r.stdout ?? '').split('\n')) {
    const pid = Number(line.trim());
    if (pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  }
  runSyncQuiet('ip', ['netns', 'del', name]);
  owned.delete(name);
}

/**
 * Removes namespaces with our prefix whose creating process is dead (left by a
 * run that was SIGKILLed). Namespaces of live runs are left alone, so parallel
 * runs are safe. Returns the names removed.
 */
export function sweepStaleNamespaces(): string[] {
  const removed: string[] = [];
  for (const name of listNamespaces()) {
    const m = NAME_RE.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    removeNamespaceSync(name);
    removed.push(name);
  }
  return removed;
}

/** Removes everything this process created. Safe to call more than once. */
export function cleanupAllNamespaces(): void {
  for (const name of [...owned]) removeNamespaceSync(name);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupAllNamespaces);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanupAllNamespaces();
      // 128 + signal number, the shell convention.
      process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const)[sig]);
    });
  }
}

/** Throws a clear error when this process cannot create namespaces (not root). */
export function assertNetnsCapable(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new HarnessError('network namespace tests need root (ip netns add)');
  }
}

/**
 * Creates a namespace with `lo` up and registers it for cleanup. The first
 * call in a process also sweeps stale namespaces from crashed runs.
 */
export async function createNamespace(label: string): Promise<string> {
  assertNetnsCapable();
  installHooks();
  if (!swept) {
    swept = true;
    sweepStaleNamespaces();
  }
  const name = uniqueNetnsName(label);
  await runOk('ip', ['netns', 'add', name]);
  owned.add(name);
  await runOk('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

/** Kills the processes inside `name` and deletes it (its veths go with it). */
export async function removeNamespace(name: string): Promise<void> {
  removeNamespaceSync(name);
}

/** One end of a veth link. */
export interface LinkEnd {
  netns: string;
  iface: string;
  /** IPv4 address without prefix length. */
  addr: string;
  prefixLen: number;
}

/**
 * A veth pair between two namespaces, with the ways to break it that the
 * uplink tests need: silently (packets dropped, carrier up) or visibly
 * (interface down, the peer sees NO-CARRIER).
 */
export class Link {
  private cutState = false;
  constructor(
    readonly a: LinkEnd,
    readonly b: LinkEnd,
  ) {}

  /** True while cut() is in force. */
  get isCut(): boolean {
    return this.cutState;
  }

  /** Drops every packet both ways while the link stays up: `pfifo limit 0` on both ends. */
  async cut(): Promise<void> {
    for (const end of [this.a, this.b]) {
      await runOk('tc', ['-n', end.netns, 'qdisc', 'replace', 'dev', end.iface, 'root', 'pfifo', 'limit', '0']);
    }
    this.cutState = true;
  }

  /** Undoes cut(): deletes the root qdisc so the default one comes back. */
  async restore(): Promise<void> {
    for (const end of [this.a, this.b]) {
      const r = await run('tc', ['-n', end.netns, 'qdisc', 'del', 'dev', end.iface, 'root']);
      // Deleting the default qdisc fails harmlessly when nothing was cut.
      if (r.code !== 0 && !/No such file|Cannot delete qdisc with handle of zero/i.test(r.stderr)) {
        throw new HarnessError(`tc qdisc del on ${end.netns}/${end.iface} failed`, r.stderr);
      }
    }
    this.cutState = false;
  }

  /** Sets the interface(s) down: the default takes down side `a`, which makes `b` lose carrier too. */
  async down(side: 'a' | 'b' | 'both' = 'a'): Promise<void> {
    for (const end of this.ends(side)) await runOk('ip', ['-n', end.netns, 'link', 'set', end.iface, 'down']);
  }

  /** Sets the interface(s) up again (addresses stay configured). */
  async up(side: 'a' | 'b' | 'both' = 'both'): Promise<void> {
    for (const end of this.ends(side)) await runOk('ip', ['-n', end.netns, 'link', 'set', end.iface, 'up']);
  }

  /** The end of this link inside `netns`. */
  endIn(netns: string): LinkEnd {
    if (this.a.netns === netns) return this.a;
    if (this.b.netns === netns) return this.b;
    throw new HarnessError(`link ${this.a.netns}<->${this.b.netns} has no end in ${netns}`);
  }

  private ends(side: 'a' | 'b' | 'both'): LinkEnd[] {
    switch (side) {
      case 'a':
        return [this.a];
      case 'b':
        return [this.b];
      case 'both':
        return [this.a, this.b];
      default: {
        const never: never = side;
        throw new HarnessError(`bad side ${String(never)}`);
      }
    }
  }
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new HarnessError(`bad IPv4 address '${ip}'`);
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The `host`-th address of `subnet` ('10.90.1.0/24', 2 → '10.90.1.2'), checked to be a usable host. */
export function hostAddress(subnet: string, host: number): { addr: string; prefixLen: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(subnet);
  if (!m) throw new HarnessError(`bad subnet '${subnet}' (want a.b.c.d/len)`);
  const prefixLen = Number(m[2]);
  if (prefixLen < 8 || prefixLen > 30) throw new HarnessError(`subnet ${subnet}: prefix length must be 8..30`);
  const size = 2 ** (32 - prefixLen);
  const base = ipToInt(m[1]!);
  if (base % size !== 0) throw new HarnessError(`subnet ${subnet} is not aligned to its prefix length`);
  if (host < 1 || host > size - 2) throw new HarnessError(`host ${host} is outside ${subnet}`);
  return { addr: intToIp(base + host), prefixLen };
}

export interface VethOptions {
  a: { netns: string; iface: string; addr: string; prefixLen: number };
  b: { netns: string; iface: string; addr: string; prefixLen: number };
}

/** Creates a veth pair with one end in each namespace, addressed and up. */
export async function createVethPair(opts: VethOptions): Promise<Link> {
  const { a, b } = opts;
  for (const end of [a, b]) {
    if (end.iface.length > 15) throw new HarnessError(`interface name '${end.iface}' is longer than 15 characters`);
  }
  await runOk('ip', ['link', 'add', a.iface, 'netns', a.netns, 'type', 'veth', 'peer', 'name', b.iface, 'netns', b.netns]);
  for (const end of [a, b]) {
    await runOk('ip', ['-n', end.netns, 'addr', 'add', `${end.addr}/${end.prefixLen}`, 'dev', end.iface]);
    await runOk('ip', ['-n', end.netns, 'link', 'set', end.iface, 'up']);
  }
  return new Link({ ...a }, { ...b });
}

/** Adds a route inside `netns`: `dest` ('10.90.3.0/24' or 'default') via `gateway`. */
export async function addRoute(netns: string, dest: string, gateway: string): Promise<void> {
  await runOk('ip', ['-n', netns, 'route', 'add', dest, 'via', gateway]);
}

/**
 * Waits until something listens on `port` inside `netns` (`ss -ln`), so a
 * test does not race a peer's startup.
 */
export async function waitForListening(opts: {
  netns?: string;
  port: number;
  proto: 'udp' | 'tcp';
  timeoutMs?: number;
}): Promise<void> {
  const flag = opts.proto === 'udp' ? '-Hlun' : '-Hltn';
  await waitUntil(
    async () => {
      const r = await nsRun(opts.netns, 'ss', [flag, `sport = :${opts.port}`], { timeoutMs: 3_000 });
      return r.code === 0 && r.stdout.trim() !== '';
    },
    { timeoutMs: opts.timeoutMs ?? 10_000, intervalMs: 100, what: `${opts.proto} port ${opts.port} in ${opts.netns ?? 'root ns'}` },
  );
}

/** Packet and byte counters of an interface (`ip -s -j link show`). */
export interface IfaceCounters {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
}

/**
 * Counters of `iface` inside `netns`. Two readings a second apart tell
 * whether RTP (50 packets/s per stream at 20 ms ptime) is flowing, when a
 * recording cannot (baresip stops recording after a re-INVITE: README).
 */
export async function ifaceCounters(netns: string | undefined, iface: string): Promise<IfaceCounters> {
  const out = await runOk('ip', [...(netns ? ['-n', netns] : []), '-s', '-j', 'link', 'show', 'dev', iface]);
  const parsed = JSON.parse(out) as Array<{ stats64?: { rx: { packets: number; bytes: number }; tx: { packets: number; bytes: number } } }>;
  const s = parsed[0]?.stats64;
  if (!s) throw new HarnessError(`no counters for ${iface} in ${netns ?? 'root ns'}`, out);
  return { rxPackets: s.rx.packets, txPackets: s.tx.packets, rxBytes: s.rx.bytes, txBytes: s.tx.bytes };
}

export interface LinkSpec {
  a: string;
  b: string;
  /** IPv4 subnet of this link, e.g. '10.90.1.0/24'. Private ranges only: traffic never leaves the namespaces. */
  subnet: string;
  /** Host numbers in the subnet (default a = 1, b = 2). */
  aHost?: number;
  bHost?: number;
  /** Interface names (default `to-<peer>`, cut to 15 characters). */
  aIface?: string;
  bIface?: string;
}

export interface TopologySpec {
  /** Node labels; each becomes a namespace `pgwt-<pid>-<n>-<label>`. */
  nodes: readonly string[];
  links: readonly LinkSpec[];
}

/** A set of namespaces joined by veth links; see the module comment for an example. */
export class Topology {
  private constructor(
    private readonly nsByNode: Map<string, string>,
    private readonly links: Array<{ spec: LinkSpec; link: Link }>,
  ) {}

  /** Builds the namespaces and links; on any failure removes what it made and rethrows. */
  static async create(spec: TopologySpec): Promise<Topology> {
    const nsByNode = new Map<string, string>();
    const links: Array<{ spec: LinkSpec; link: Link }> = [];
    try {
      for (const node of spec.nodes) {
        if (nsByNode.has(node)) throw new HarnessError(`node '${node}' listed twice`);
        nsByNode.set(node, await createNamespace(node));
      }
      for (const l of spec.links) {
        const nsA = nsByNode.get(l.a);
        const nsB = nsByNode.get(l.b);
        if (!nsA || !nsB) throw new HarnessError(`link ${l.a}-${l.b} names an unknown node`);
        const a = hostAddress(l.subnet, l.aHost ?? 1);
        const b = hostAddress(l.subnet, l.bHost ?? 2);
        const link = await createVethPair({
          a: { netns: nsA, iface: l.aIface ?? `to-${l.b}`.slice(0, 15), ...a },
          b: { netns: nsB, iface: l.bIface ?? `to-${l.a}`.slice(0, 15), ...b },
        });
        links.push({ spec: l, link });
      }
    } catch (e) {
      for (const ns of nsByNode.values()) await removeNamespace(ns);
      throw e;
    }
    return new Topology(nsByNode, links);
  }

  /** Node labels. */
  get nodes(): string[] {
    return [...this.nsByNode.keys()];
  }

  /** The namespace name of `node`. */
  ns(node: string): string {
    const ns = this.nsByNode.get(node);
    if (!ns) throw new HarnessError(`unknown node '${node}'`);
    return ns;
  }

  /** The link between `x` and `y` (either order). */
  link(x: string, y: string): Link {
    const found = this.links.find(({ spec }) => (spec.a === x && spec.b === y) || (spec.a === y && spec.b === x));
    if (!found) throw new HarnessError(`no link between '${x}' and '${y}'`);
    return found.link;
  }

  /** `node`'s address on its link to `peer`: the address `peer` should send to. */
  addr(node: string, peer: string): string {
    return this.link(node, peer).endIn(this.ns(node)).addr;
  }

  /** `node`'s interface name on its link to `peer`. */
  iface(node: string, peer: string): string {
    return this.link(node, peer).endIn(this.ns(node)).iface;
  }

  /** Runs a command to completion inside `node`. */
  run(node: string, cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return nsRun(this.ns(node), cmd, args, opts);
  }

  /** Spawns a long-running process inside `node`. */
  spawn(node: string, cmd: string, args: readonly string[], opts?: SpawnOptions): ManagedProcess {
    return nsSpawn(this.ns(node), cmd, args, opts);
  }

  /** Removes every namespace (and so every link and every process inside). */
  async destroy(): Promise<void> {
    for (const ns of this.nsByNode.values()) await removeNamespace(ns);
  }
}

/** Shorthand for Topology.create. */
export function createTopology(spec: TopologySpec): Promise<Topology> {
  return Topology.create(spec);
}
