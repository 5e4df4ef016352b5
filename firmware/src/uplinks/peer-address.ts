/**
 * Where an uplink's SIP URI (`uplinks.cloud.proxy`, a trunk's `registrar` or
 * `proxy`) sends requests: RFC 3263 §4, without NAPTR.
 *
 * - Transport (§4.1): the URI's `transport` parameter; else TLS for sips:;
 *   else UDP when the host is an IP address or a port is given; else the
 *   first SRV name that answers of `_sips._tcp` (sips:), `_sip._udp`,
 *   `_sip._tcp`.
 * - Address and port (§4.2): an IP address is used as is; with a port, or
 *   when SRV has nothing, the A/AAAA record and the default port (5060, TLS
 *   5061); else the SRV target of the lowest priority and, among those, the
 *   highest weight (§4.4 tries the others when it fails: the probes then mark
 *   the uplink down, and the next resolution may pick another).
 *
 * The addresses are also what identifies the peer's inbound requests, so
 * every A/AAAA answer is kept, not only the one used.
 */
import { isIP } from 'node:net';
import { parseUri } from '../sip/message/index.js';
import { defaultPort, type Endpoint, type TransportProtocol } from '../sip/transport/api.js';
import { PgwError } from '../util/errors.js';

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** The DNS lookups needed; node:dns/promises by default (tests inject their own). */
export interface PeerDns {
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /** Every IPv4/IPv6 address of a host name. */
  lookupAll(host: string): Promise<string[]>;
}

export interface ResolvedPeer {
  /** The URI as configured. */
  uri: string;
  /** A sips: URI (RFC 3261 §26.2.2: TLS on every hop; our URIs toward it are sips: too). */
  secure: boolean;
  /** The host part, without brackets: what goes in Request-URIs and To. */
  host: string;
  /** The port written in the URI, if any (kept in Request-URIs). */
  uriPort?: number;
  /** Where requests go. */
  endpoint: Endpoint;
  /** Every address the peer may send from (for recognising its inbound requests). */
  addresses: string[];
  /** The TLS name to check: the URI host (RFC 5922 §4). */
  tlsServerName?: string;
}

export async function systemPeerDns(): Promise<PeerDns> {
  const dns = await import('node:dns/promises');
  return {
    resolveSrv: (name) => dns.resolveSrv(name),
    lookupAll: async (host) => (await dns.lookup(host, { all: true })).map((a) => a.address),
  };
}

export async function resolvePeer(uriText: string, dns: PeerDns): Promise<ResolvedPeer> {
  let uri;
  try {
    uri = parseUri(uriText);
  } catch (e) {
    throw new PgwError('PGW_E_CONFIG_INVALID', `uplink URI ${uriText} cannot be parsed`, { cause: e });
  }
  if (uri.scheme === 'tel') throw new PgwError('PGW_E_CONFIG_INVALID', `uplink URI ${uriText} must be sip: or sips:`);
  const host = uri.host.replace(/^\[|\]$/g, '');
  const param = uri.params.get('transport')?.toLowerCase();
  const explicit: TransportProtocol | undefined =
    param === 'udp' || param === 'tcp' || param === 'tls' ? param : uri.scheme === 'sips' ? 'tls' : undefined;
  const base = { uri: uriText, host, secure: uri.scheme === 'sips', ...(uri.port !== undefined ? { uriPort: uri.port } : {}) };
  const tls = (protocol: TransportProtocol) => (protocol === 'tls' && isIP(host) === 0 ? { tlsServerName: host } : {});

  if (isIP(host) !== 0) {
    const protocol = explicit ?? 'udp';
    return { ...base, endpoint: { protocol, address: host, port: uri.port ?? defaultPort(protocol) }, addresses: [host], ...tls(protocol) };
  }
  if (uri.port === undefined) {
    const names: Array<[string, TransportProtocol]> =
      uri.scheme === 'sips'
        ? [[`_sips._tcp.${host}`, 'tls']]
        : explicit
          ? [[`_${explicit === 'tls' ? 'sips' : 'sip'}._${explicit === 'udp' ? 'udp' : 'tcp'}.${host}`, explicit]]
          : [
              [`_sip._udp.${host}`, 'udp'],
              [`_sip._tcp.${host}`, 'tcp'],
            ];
    for (const [name, protocol] of names) {
      const records = await dns.resolveSrv(name).catch(() => [] as SrvRecord[]);
      const best = pickSrv(records);
      if (!best) continue;
      const addresses = await dns.lookupAll(best.name);
      const address = addresses[0];
      if (!address) continue;
      return { ...base, endpoint: { protocol, address, port: best.port }, addresses, ...tls(protocol) };
    }
  }
  const protocol = explicit ?? 'udp';
  const addresses = await dns.lookupAll(host).catch((e: unknown) => {
    throw new PgwError('PGW_E_SIP_TRANSPORT', `uplink host ${host} does not resolve`, { cause: e });
  });
  const address = addresses[0];
  if (!address) throw new PgwError('PGW_E_SIP_TRANSPORT', `uplink host ${host} has no address`);
  return { ...base, endpoint: { protocol, address, port: uri.port ?? defaultPort(protocol) }, addresses, ...tls(protocol) };
}

/** RFC 2782: lowest priority first; among equals, the highest weight (deterministic, so probes and calls agree). */
export function pickSrv(records: readonly SrvRecord[]): SrvRecord | undefined {
  return [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight)[0];
}

/** `host` or `host:port` as written in a URI (IPv6 in brackets). */
export function uriHostPort(peer: Pick<ResolvedPeer, 'host' | 'uriPort'>): string {
  const h = peer.host.includes(':') ? `[${peer.host}]` : peer.host;
  return peer.uriPort !== undefined ? `${h}:${peer.uriPort}` : h;
}
