/**
 * Which of our addresses faces a remote address: what a multi-homed gateway
 * must put in Via, Contact and SDP (TESTING-NOTES: a wrong one gives one-way
 * or no audio).
 *
 * The authority is the kernel: connect() an unbound UDP socket to the remote
 * (nothing is sent) and read the source address it chose. That is
 * asynchronous in Node, while localFor() is synchronous, so a lookup answers
 * from a per-remote cache (TTL, default 60 s) and, on a miss, from a
 * synchronous estimate (longest-prefix match in /proc/net/route or
 * /proc/net/ipv6_route, then the addresses of that interface) while the probe
 * runs in the background to correct the cache. resolve() waits for the probe.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { NetworkInterfaceInfo } from 'node:os';
import type { Clock } from '../../util/clock.js';

export interface LocalAddressResolverOptions {
  clock: Clock;
  /** How long a probed answer is trusted. Default 60 s. */
  ttlMs?: number;
  /** The kernel's source address toward remote. Default: a UDP connect() probe. */
  probe?: (remote: string) => Promise<string>;
  /** A synchronous best guess for a cache miss. Default: routing table and interfaces. */
  estimate?: (remote: string) => string | undefined;
  maxEntries?: number;
}

interface Entry {
  address: string;
  expires: number;
  /** True when the address came from the kernel, not from the estimate. */
  probed: boolean;
  pending?: Promise<string>;
}

export class LocalAddressResolver {
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly probe: (remote: string) => Promise<string>;
  private readonly estimate: (remote: string) => string | undefined;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, Entry>();
  private closed = false;

  constructor(options: LocalAddressResolverOptions) {
    this.clock = options.clock;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.probe = options.probe ?? probeSourceAddress;
    this.estimate = options.estimate ?? estimateSourceAddress;
    this.maxEntries = options.maxEntries ?? 4096;
  }

  /** Our address facing `remote`, now: cached, else estimated (and a probe started). */
  lookup(remote: string): string {
    const now = this.clock.monotonic();
    const hit = this.cache.get(remote);
    if (hit && hit.expires > now) return hit.address;
    const guess = hit?.address ?? this.estimate(remote) ?? fallbackAddress(remote);
    this.startProbe(remote, guess, now);
    return guess;
  }

  /** Our address facing `remote`, as the kernel chooses it. */
  async resolve(remote: string): Promise<string> {
    const now = this.clock.monotonic();
    const hit = this.cache.get(remote);
    if (hit && hit.probed && hit.expires > now) return hit.address;
    const guess = hit?.address ?? this.estimate(remote) ?? fallbackAddress(remote);
    return this.startProbe(remote, guess, now);
  }

  close(): void {
    this.closed = true;
    this.cache.clear();
  }

  private startProbe(remote: string, guess: string, now: number): Promise<string> {
    const existing = this.cache.get(remote);
    if (existing?.pending) return existing.pending;
    if (this.cache.size >= this.maxEntries && !existing) {
      // Drop the oldest entry (Map keeps insertion order).
      const first = this.cache.keys().next();
      if (!first.done) this.cache.delete(first.value);
    }
    // Until the probe answers, the guess is served; it expires with the probe.
    const entry: Entry = { address: guess, expires: now + this.ttlMs, probed: false };
    const pending = this.probe(remote).then(
      (address) => {
        if (!this.closed && this.cache.get(remote) === entry) {
          entry.address = address;
          entry.probed = true;
          entry.expires = this.clock.monotonic() + this.ttlMs;
          delete entry.pending;
        }
        return address;
      },
      () => {
        // No route (or no network yet): keep the guess, retry after a short while.
        if (this.cache.get(remote) === entry) {
          delete entry.pending;
          entry.expires = Math.min(entry.expires, this.clock.monotonic() + 5_000);
        }
        return guess;
      },
    );
    entry.pending = pending;
    this.cache.set(remote, entry);
    return pending;
  }
}

/** connect() a UDP socket to remote and read the source address the kernel picked. */
export function probeSourceAddress(remote: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const family = isIP(remote);
    if (family === 0) {
      reject(new Error(`not an IP address: ${remote}`));
      return;
    }
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    const done = (err: Error | null, address?: string): void => {
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      if (err || !address) reject(err ?? new Error('no source address'));
      else resolve(address);
    };
    socket.on('error', (err) => done(err));
    // The port is irrelevant: a UDP connect only selects a route, nothing is sent.
    socket.connect(9, remote, () => {
      try {
        done(null, socket.address().address);
      } catch (err) {
        done(err as Error);
      }
    });
  });
}

/** The address to use when nothing better is known: loopback of the same family. */
function fallbackAddress(remote: string): string {
  return isIP(remote) === 6 ? '::1' : '127.0.0.1';
}

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * A synchronous estimate of the kernel's choice: the remote itself when it is
 * one of ours, else the interface of the longest-prefix route, else an
 * interface whose subnet holds the remote, else the first external address.
 */
export function estimateSourceAddress(
  remote: string,
  ifaces: Interfaces = networkInterfaces(),
  readRoutes: (family: 4 | 6) => string | undefined = readRouteTable,
): string | undefined {
  const family = isIP(remote);
  if (family === 0) return undefined;
  const fam = family === 6 ? 'IPv6' : 'IPv4';
  const all: Array<{ name: string; info: NetworkInterfaceInfo }> = [];
  for (const [name, infos] of Object.entries(ifaces)) {
    for (const info of infos ?? []) if (info.family === fam) all.push({ name, info });
  }
  if (all.some((a) => sameAddress(a.info.address, remote))) return remote;
  if (family === 4 && remote.startsWith('127.')) return '127.0.0.1';
  if (family === 6 && sameAddress(remote, '::1')) return '::1';
  const onLink = all.find((a) => inSubnet(remote, a.info));
  if (onLink) return onLink.info.address;
  const table = readRoutes(family === 6 ? 6 : 4);
  const iface = table ? routeInterface(remote, family === 6 ? 6 : 4, table) : undefined;
  if (iface) {
    const onIface = all.filter((a) => a.name === iface && !isLinkLocal(a.info.address));
    if (onIface[0]) return onIface[0].info.address;
  }
  const external = all.find((a) => !a.info.internal && !isLinkLocal(a.info.address));
  return external?.info.address;
}

function readRouteTable(family: 4 | 6): string | undefined {
  try {
    return readFileSync(family === 6 ? '/proc/net/ipv6_route' : '/proc/net/route', 'latin1');
  } catch {
    return undefined;
  }
}

/** The interface name of the best route to remote in a /proc/net route table. */
export function routeInterface(remote: string, family: 4 | 6, table: string): string | undefined {
  const target = addressBits(remote);
  if (!target) return undefined;
  let best: { prefix: number; metric: number; iface: string } | undefined;
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    let dest: bigint | undefined;
    let prefix: number;
    let metric: number;
    let iface: string | undefined;
    let up: boolean;
    if (family === 4) {
      // Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex, little-endian)
      if (f.length < 8 || f[0] === 'Iface') continue;
      dest = leHex32(f[1]!);
      const mask = leHex32(f[7]!);
      if (dest === undefined || mask === undefined) continue;
      prefix = popcount(mask);
      metric = Number(f[6]);
      iface = f[0];
      up = (parseInt(f[3]!, 16) & 0x1) === 1;
      if (iface && up && (target.value & mask) === dest) {
        if (!best || prefix > best.prefix || (prefix === best.prefix && metric < best.metric)) best = { prefix, metric, iface };
      }
    } else {
      // dest prefixlen src srcprefixlen nexthop metric refcnt use flags iface (hex, big-endian)
      if (f.length < 10) continue;
      if (!/^[0-9a-f]{32}$/i.test(f[0]!)) continue;
      dest = BigInt('0x' + f[0]);
      prefix = parseInt(f[1]!, 16);
      metric = parseInt(f[5]!, 16);
      iface = f[9];
      up = (parseInt(f[8]!, 16) & 0x1) === 1;
      const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
      if (iface && iface !== 'lo' && up && (target.value & mask) === dest) {
        if (!best || prefix > best.prefix || (prefix === best.prefix && metric < best.metric)) best = { prefix, metric, iface };
      }
    }
  }
  return best?.iface;
}

/** /proc/net/route stores addresses as host-order (little-endian) hex: "0101A8C0" is 192.168.1.1. */
function leHex32(hex: string): bigint | undefined {
  if (!/^[0-9a-f]{8}$/i.test(hex)) return undefined;
  const n = parseInt(hex, 16);
  const be = ((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | ((n >>> 24) & 0xff);
  return BigInt(be >>> 0);
}

function popcount(v: bigint): number {
  let n = 0;
  for (let x = v; x > 0n; x >>= 1n) n += Number(x & 1n);
  return n;
}

function addressBits(address: string): { value: bigint; bits: number } | undefined {
  const family = isIP(address);
  if (family === 4) {
    const parts = address.split('.').map(Number);
    return { value: BigInt(((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0), bits: 32 };
  }
  if (family === 6) {
    let a = address.toLowerCase().split('%')[0]!;
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (v4) {
      const p = v4[1]!.split('.').map(Number);
      a = a.slice(0, -v4[1]!.length) + ((p[0]! << 8) | p[1]!).toString(16) + ':' + ((p[2]! << 8) | p[3]!).toString(16);
    }
    const [head, tail] = a.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    let value = 0n;
    for (const g of groups) value = (value << 16n) | BigInt(parseInt(g || '0', 16));
    return { value, bits: 128 };
  }
  return undefined;
}

function inSubnet(remote: string, info: NetworkInterfaceInfo): boolean {
  if (info.internal) return false;
  const r = addressBits(remote);
  const a = addressBits(info.address);
  const m = addressBits(info.netmask);
  if (!r || !a || !m || r.bits !== a.bits) return false;
  if (m.value === 0n) return false;
  return (r.value & m.value) === (a.value & m.value);
}

function isLinkLocal(address: string): boolean {
  return /^fe80:/i.test(address) || address.startsWith('169.254.');
}

export function sameAddress(a: string, b: string): boolean {
  const x = addressBits(stripBrackets(a));
  const y = addressBits(stripBrackets(b));
  if (x && y) return x.bits === y.bits && x.value === y.value;
  return stripBrackets(a).toLowerCase() === stripBrackets(b).toLowerCase();
}

/** A key that is equal for equal addresses however they are written (IPv6 zero compression, brackets, v4-mapped). */
export function canonicalAddress(address: string): string {
  let a = stripBrackets(address);
  if (a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  const bits = addressBits(a);
  if (!bits) return a.toLowerCase();
  return bits.bits === 32 ? a : `v6:${bits.value.toString(16)}`;
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
