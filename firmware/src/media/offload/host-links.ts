/**
 * Which interface a media leg's address is on, and whether the phone at the
 * other end is on that same link. The kernel fast path sends a packet out of
 * an interface straight to the phone's address (nft `fwd`, resolving its MAC
 * there), so it only serves phones on a subnet of that interface: the desk
 * phones on the practice LAN, or programs on the box itself over lo. Calls to
 * the cloud or a trunk, which need the routing table (and its policy rules
 * per uplink), stay in user space.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { NetworkInterfaceInfo } from 'node:os';
import type { KernelDevice } from './nft-script.js';

export interface HostLinks {
  /** The device both addresses are on (local is the gateway's, remote the phone's), or null. */
  sharedDevice(localAddress: string, remoteAddress: string): KernelDevice | null;
}

function ipv4ToInt(a: string): number | null {
  const parts = a.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

/** True when remote is in local's subnet (both IPv4, netmask as os.networkInterfaces gives it). */
export function onLink(local: string, netmask: string, remote: string): boolean {
  const l = ipv4ToInt(local);
  const m = ipv4ToInt(netmask);
  const r = ipv4ToInt(remote);
  if (l === null || m === null || r === null) return false;
  // 32-bit unsigned AND without sign trouble.
  return (l & m) >>> 0 === (r & m) >>> 0;
}

export interface InterfaceSource {
  list(): NodeJS.Dict<NetworkInterfaceInfo[]>;
  ifindex(name: string): number | null;
}

const systemInterfaces: InterfaceSource = {
  list: () => networkInterfaces(),
  ifindex: (name) => {
    try {
      const n = Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : null;
    } catch {
      return null;
    }
  },
};

/** HostLinks from the host's interfaces, read again at most every `refreshMs` (addresses come and go with uplinks). */
export function hostLinks(o: { now: () => number; refreshMs?: number; source?: InterfaceSource }): HostLinks {
  const source = o.source ?? systemInterfaces;
  const refreshMs = o.refreshMs ?? 10_000;
  let readAt = -Infinity;
  let byAddress = new Map<string, { name: string; netmask: string; internal: boolean }>();
  const indexes = new Map<string, number | null>();
  const refresh = (): void => {
    if (o.now() - readAt < refreshMs) return;
    readAt = o.now();
    byAddress = new Map();
    indexes.clear();
    for (const [name, infos] of Object.entries(source.list())) {
      for (const i of infos ?? []) if (i.family === 'IPv4') byAddress.set(i.address, { name, netmask: i.netmask, internal: i.internal });
    }
  };
  return {
    sharedDevice(localAddress, remoteAddress) {
      refresh();
      const link = byAddress.get(localAddress);
      if (!link) return null;
      if (link.internal) {
        // Loopback: the phone is a program on the box (127.0.0.0/8).
        if (!onLink('127.0.0.1', '255.0.0.0', remoteAddress)) return null;
      } else if (!onLink(localAddress, link.netmask, remoteAddress) || byAddress.has(remoteAddress)) {
        return null;
      }
      let index = indexes.get(link.name);
      if (index === undefined) {
        index = source.ifindex(link.name);
        indexes.set(link.name, index);
      }
      return index === null ? null : { name: link.name, index, loopback: link.internal };
    },
  };
}
