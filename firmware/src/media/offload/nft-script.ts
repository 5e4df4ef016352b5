/**
 * The nftables text the kernel fast path is made of (see kernel-offload.ts).
 *
 * One `netdev` table. A packet arriving on an interface that carries media
 * legs is looked up by (gateway port it was sent to, source address, source
 * port): that is one leg's latched RTP source. A hit gives a mark naming the
 * flow; the mark then picks the new source (the other leg's address and
 * port on the gateway), the new destination (the other phone, where the
 * userspace relay would send), and the device to send it out of. The header
 * is rewritten in place (nft fixes the IP and UDP checksums) and the packet
 * leaves by `fwd` before the IP stack sees it: no routing, no conntrack, no
 * `ip_forward`. On `lo` (both ends on the box, as in the benchmarks) the
 * rewritten packet simply goes on up to the local socket.
 *
 * Only RTP goes this way: version 2, and a payload type listed for the
 * flow (the key's last part), never 72-76 (RFC 5761 §4: RTCP, also when
 * muxed onto the RTP port, stays in user space, which rewrites it as
 * needed). Anything without an entry (a new source, a stray sender, RTCP,
 * a codec that needs transcoding) is left alone and reaches the relay's
 * sockets as before.
 */

export const OFFLOAD_TABLE = 'pgw_media';
/** The top byte of every mark this table sets; the low 16 bits are the gateway port the flow enters on. */
export const OFFLOAD_MARK_TAG = 0x5a000000;

/** One direction of a call: RTP from one leg's phone, out of the other leg to the other phone. */
export interface KernelFlow {
  /** The gateway port the packets arrive on (the receiving leg's RTP port). */
  inPort: number;
  /** The receiving leg's latched RTP source. */
  srcAddress: string;
  srcPort: number;
  /**
   * The RTP payload types that pass unchanged (the same number means the
   * same codec on both legs, and the other phone accepted it). Any other
   * payload type from the phone still goes to the relay, which transcodes,
   * renumbers or drops it as the SDPs say.
   */
  payloadTypes: readonly number[];
  /** The other leg's address and RTP port on the gateway: the packets' new source. */
  viaAddress: string;
  viaPort: number;
  /** Where the other leg's phone takes its RTP (its latched source): the new destination. */
  toAddress: string;
  toPort: number;
  /** The interface the packets arrive on (the receiving leg's phone is on its link). */
  device: KernelDevice;
  /** The interface they leave by (the other phone's link; on lo, lo too). */
  outDevice: KernelDevice;
}

export interface KernelDevice {
  name: string;
  index: number;
  loopback: boolean;
}

export function flowMark(inPort: number): number {
  return (OFFLOAD_MARK_TAG | (inPort & 0xffff)) >>> 0;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** The table with its maps, no chains yet (chains are per device, added as legs appear on it). */
export function tableScript(): string {
  const t = `table netdev ${OFFLOAD_TABLE}`;
  return [
    `add ${t}`,
    `delete ${t}`,
    `add ${t}`,
    `add map netdev ${OFFLOAD_TABLE} leg_in { typeof udp dport . ip saddr . udp sport . @th,73,7 : meta mark; counter; }`,
    `add map netdev ${OFFLOAD_TABLE} to_addr { type mark : ipv4_addr; }`,
    `add map netdev ${OFFLOAD_TABLE} to_port { type mark : inet_service; }`,
    `add map netdev ${OFFLOAD_TABLE} via_addr { type mark : ipv4_addr; }`,
    `add map netdev ${OFFLOAD_TABLE} via_port { type mark : inet_service; }`,
    `add map netdev ${OFFLOAD_TABLE} to_dev { type mark : iface_index; }`,
    '',
  ].join('\n');
}

/** Removes the table (shutdown, or `kernelForwarding: off` after a run that had it on). */
export function dropTableScript(): string {
  return `add table netdev ${OFFLOAD_TABLE}\ndelete table netdev ${OFFLOAD_TABLE}\n`;
}

/** nft chain names are identifiers; the device is named by its index. */
export function deviceChainName(device: KernelDevice): string {
  return `in_${device.index}`;
}

/** An ingress chain for one device, with the one rule that rewrites and sends. */
export function deviceChainScript(device: KernelDevice, portMin: number, portMax: number): string {
  const chain = deviceChainName(device);
  const name = JSON.stringify(device.name);
  const match = `ip protocol udp udp dport ${portMin}-${portMax} @th,64,2 2`;
  const rewrite =
    'meta mark set udp dport . ip saddr . udp sport . @th,73,7 map @leg_in ' +
    'ip saddr set meta mark map @via_addr udp sport set meta mark map @via_port ' +
    'ip daddr set meta mark map @to_addr udp dport set meta mark map @to_port';
  // On lo the rewritten packet is for a local socket: let it go on up (and clear the mark for policy routing).
  const out = device.loopback ? 'meta mark set 0' : 'fwd ip to ip daddr device meta mark map @to_dev';
  return [
    `add chain netdev ${OFFLOAD_TABLE} ${chain} { type filter hook ingress device ${name} priority -500; policy accept; }`,
    `flush chain netdev ${OFFLOAD_TABLE} ${chain}`,
    `add rule netdev ${OFFLOAD_TABLE} ${chain} ${match} ${rewrite} ${out}`,
    '',
  ].join('\n');
}

/** What names a flow in the table: the port it enters on, its source, and its payload types (one element each). */
export type KernelFlowKey = Pick<KernelFlow, 'inPort' | 'srcAddress' | 'srcPort' | 'payloadTypes'>;

function keys(f: KernelFlowKey): string[] {
  return f.payloadTypes.map((pt) => `${f.inPort} . ${f.srcAddress} . ${f.srcPort} . ${pt}`);
}

/** Adds flows: the value maps first, so a packet that hits leg_in finds everything it needs. */
export function addFlowsScript(flows: readonly KernelFlow[]): string {
  if (flows.length === 0) return '';
  const el = (map: string, items: string[]): string => `add element netdev ${OFFLOAD_TABLE} ${map} { ${items.join(', ')} }`;
  const m = (f: KernelFlow): string => hex(flowMark(f.inPort));
  return [
    el('to_addr', flows.map((f) => `${m(f)} : ${f.toAddress}`)),
    el('to_port', flows.map((f) => `${m(f)} : ${f.toPort}`)),
    el('via_addr', flows.map((f) => `${m(f)} : ${f.viaAddress}`)),
    el('via_port', flows.map((f) => `${m(f)} : ${f.viaPort}`)),
    el('to_dev', flows.map((f) => `${m(f)} : ${f.outDevice.index}`)),
    el('leg_in', flows.flatMap((f) => keys(f).map((k) => `${k} : ${m(f)}`))),
    '',
  ].join('\n');
}

/** Removes flows: leg_in first, so no packet is looked up half-way through. */
export function deleteFlowsScript(flows: readonly KernelFlowKey[]): string {
  if (flows.length === 0) return '';
  const el = (map: string, items: string[]): string => `delete element netdev ${OFFLOAD_TABLE} ${map} { ${items.join(', ')} }`;
  const marks = flows.map((f) => hex(flowMark(f.inPort)));
  return [el('leg_in', flows.flatMap(keys)), ...['to_addr', 'to_port', 'via_addr', 'via_port', 'to_dev'].map((m) => el(m, marks)), ''].join('\n');
}

export function listCountersScript(): string {
  return `list map netdev ${OFFLOAD_TABLE} leg_in\n`;
}

/** What the kernel has forwarded for one flow: packets, and bytes of IP (the UDP payload plus 28). */
export interface FlowCount {
  packets: number;
  bytes: number;
}

const ELEMENT = /(\d+) \. (\d+\.\d+\.\d+\.\d+) \. (\d+) \. (0x[0-9a-f]+|\d+) counter packets (\d+) bytes (\d+)/g;

/** One element of leg_in as `nft list map` prints it. */
export interface FlowElement extends FlowCount {
  inPort: number;
  srcAddress: string;
  srcPort: number;
  payloadType: number;
}

/** The elements of `nft list map … leg_in` text (nft 1.0.6 takes no JSON batches, so its text is read). */
export function parseElements(text: string): FlowElement[] {
  return [...text.matchAll(ELEMENT)].map((m) => ({
    inPort: Number(m[1]),
    srcAddress: m[2]!,
    srcPort: Number(m[3]),
    payloadType: Number(m[4]),
    packets: Number(m[5]),
    bytes: Number(m[6]),
  }));
}

/** Counters by flowKey (summed over the flow's payload types). */
export function parseCounters(text: string): Map<string, FlowCount> {
  const out = new Map<string, FlowCount>();
  for (const e of parseElements(text)) {
    const k = flowKey(e.inPort, e.srcAddress, e.srcPort);
    const was = out.get(k);
    out.set(k, { packets: (was?.packets ?? 0) + e.packets, bytes: (was?.bytes ?? 0) + e.bytes });
  }
  return out;
}

export function flowKey(inPort: number, srcAddress: string, srcPort: number): string {
  return `${inPort}/${srcAddress}:${srcPort}`;
}


