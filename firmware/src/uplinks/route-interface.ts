/**
 * Which interface the kernel routes an IPv4 address through, from
 * /proc/net/route (longest prefix, then lowest metric): used when
 * `device.interfaces` does not name the HSCN or WAN port (CONTRACT.md:
 * "found from the routing table at start").
 */
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';

export function interfaceToward(address: string, routeTable?: string): string | undefined {
  if (!isIPv4(address)) return undefined;
  let table: string;
  try {
    table = routeTable ?? readFileSync('/proc/net/route', 'utf8');
  } catch {
    return undefined;
  }
  const target = ipv4ToInt(address);
  let best: { iface: string; bits: number; metric: number } | undefined;
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, destHex, , , , , metricText, maskHex] = f as [string, string, string, string, string, string, string, string];
    // /proc/net/route writes addresses as little-endian hex words.
    const dest = hexLe(destHex);
    const mask = hexLe(maskHex);
    if (((target & mask) >>> 0) !== ((dest & mask) >>> 0)) continue;
    const bits = popcount(mask);
    const metric = Number(metricText);
    if (!best || bits > best.bits || (bits === best.bits && metric < best.metric)) best = { iface, bits, metric };
  }
  return best?.iface;
}

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

function hexLe(h: string): number {
  const n = parseInt(h, 16) >>> 0;
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n >>> 0; x; x = (x & (x - 1)) >>> 0) c++;
  return c;
}
