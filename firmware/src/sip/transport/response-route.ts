/**
 * Where a response goes: RFC 3261 §18.2.2 with RFC 3581 §4 (rport).
 *
 * - Reliable transport (TCP, TLS): over the connection the request arrived on
 *   while it is open; otherwise a new connection to the `received` address
 *   (or sent-by host) and the sent-by port.
 * - `maddr` present: to that address, at the sent-by port (multicast; kept for
 *   completeness, the gateway never asks for it).
 * - UDP with `rport` filled in: to received:rport, from the socket the
 *   request arrived on (RFC 3581 §4: the NAT binding only lets that through).
 * - UDP with `received`: to received at the sent-by port.
 * - Otherwise: to sent-by. A sent-by that is a host name, not an address,
 *   would need RFC 3263 §5 DNS; the packet's source address stands in for it.
 */
import { isIP } from 'node:net';
import type { Via } from '../message/types.js';
import type { Endpoint, InboundMessage, SendOptions, TransportProtocol } from './api.js';
import { defaultPort } from './api.js';
import { stripBrackets } from './local-address.js';

export interface ResponseRoute {
  destination: Endpoint;
  options: SendOptions;
}

export function viaProtocol(via: Via): TransportProtocol | undefined {
  switch (via.transport.toUpperCase()) {
    case 'UDP':
      return 'udp';
    case 'TCP':
      return 'tcp';
    case 'TLS':
      return 'tls';
    default:
      return undefined;
  }
}

/** The destination and send options for a response to the request `inbound`, whose top Via is `via`. */
export function responseRoute(via: Via, inbound: InboundMessage): ResponseRoute {
  const protocol = inbound.source.protocol;
  const sentByPort = via.port ?? defaultPort(viaProtocol(via) ?? protocol);
  const received = param(via, 'received');
  const sentByHost = stripBrackets(via.host);
  const host = received ?? (isIP(sentByHost) ? sentByHost : inbound.source.address);

  if (protocol !== 'udp') {
    const options: SendOptions = {};
    if (inbound.connectionId) options.connectionId = inbound.connectionId;
    return { destination: { protocol, address: host, port: sentByPort }, options };
  }
  const maddr = param(via, 'maddr');
  if (maddr && isIP(stripBrackets(maddr))) {
    return { destination: { protocol, address: stripBrackets(maddr), port: sentByPort }, options: { local: inbound.local } };
  }
  const rport = param(via, 'rport');
  const rportNumber = rport !== undefined ? Number(rport) : NaN;
  if (Number.isInteger(rportNumber) && rportNumber > 0 && rportNumber < 65536) {
    return {
      destination: { protocol, address: received ?? inbound.source.address, port: rportNumber },
      options: { local: inbound.local },
    };
  }
  return { destination: { protocol, address: host, port: sentByPort }, options: { local: inbound.local } };
}

function param(via: Via, name: string): string | undefined {
  const v = via.params.get(name);
  return v === null || v === undefined || v === '' ? undefined : v;
}
