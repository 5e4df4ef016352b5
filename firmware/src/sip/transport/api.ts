/**
 * The transport layer's face to the layers above (RFC 3261 §18).
 *
 * Implementations: UDP, TCP and TLS in this folder. The layer above sees
 * parsed messages with where they came from, and sends messages to an
 * endpoint; connection management, framing, rport and the §18.1.1 size rule
 * live below this line.
 */
import type { SipMessage } from '../message/types.js';

export type TransportProtocol = 'udp' | 'tcp' | 'tls';

export interface Endpoint {
  protocol: TransportProtocol;
  /** IPv4 dotted quad or IPv6 without brackets. */
  address: string;
  port: number;
}

export interface InboundMessage {
  message: SipMessage;
  /** Where the packet or connection came from (for rport/received and for responses). */
  source: Endpoint;
  /** The local address and port it arrived on: the gateway's face toward this peer. */
  local: Endpoint;
  /** Stream transports: the connection it arrived on, to send responses back on it. */
  connectionId?: string;
}

export interface SendOptions {
  /** Prefer this existing connection (responses on stream transports, RFC 3261 §18.2.2). */
  connectionId?: string;
  /**
   * Apply the §18.1.1 size rule in send() (default true). A caller that has
   * already chosen the protocol with outboundProtocol() (the transaction
   * layer) passes false so that its choice stands.
   */
  sizeRule?: boolean;
  /** UDP: send from the socket bound to this local endpoint (RFC 3581 §4: responses leave from where the request arrived). */
  local?: Endpoint;
  /** TLS: the name the server certificate must match, also sent as SNI. Default: destination.address. */
  tlsServerName?: string;
}

/**
 * Client-side TLS for the connections this box opens to one peer (an uplink
 * with its own CA or client certificate), taking precedence over the
 * layer's own TlsSettings for those connections.
 */
export interface ClientTlsSettings {
  /** CAs to verify this peer with, instead of the layer's `ca` (or Node's bundled roots). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Our client certificate and key for this peer, instead of the listener's; both or neither. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/**
 * RFC 3261 §18.1.1: a request within 200 bytes of the path MTU (1500 when
 * unknown) must go over a congestion-controlled transport: requests larger
 * than this many bytes that would go over UDP go over TCP when TCP is listening.
 */
export const UDP_SIZE_THRESHOLD = 1300;

/** Default ports (RFC 3261 §19.1.2): 5060 for UDP and TCP, 5061 for TLS. */
export function defaultPort(protocol: TransportProtocol): number {
  return protocol === 'tls' ? 5061 : 5060;
}

export interface ConnectionInfo {
  connectionId: string;
  protocol: TransportProtocol;
  remote: Endpoint;
  local: Endpoint;
  /** True when the peer opened it. */
  inbound: boolean;
}

export interface TransportLayer {
  /**
   * Serialize and send. For UDP requests, a message within 200 bytes of the
   * path MTU (1300 bytes) is sent over TCP instead (§18.1.1) when a TCP
   * transport is listening; the top Via is rewritten to match by the caller
   * via localFor(). Rejects with PGW_E_SIP_TRANSPORT.
   */
  send(message: SipMessage, destination: Endpoint, options?: SendOptions): Promise<void>;
  /** Subscribe to inbound messages; returns an unsubscribe function. */
  onMessage(handler: (inbound: InboundMessage) => void): () => void;
  /**
   * The local endpoint (address of the interface facing `remote`, and our
   * listening port for that protocol) to put in Via, Contact and SDP.
   */
  localFor(remote: Endpoint): Endpoint;
  /** Listening endpoints, for logs and the admin API. */
  listening(): Endpoint[];
  close(): Promise<void>;

  // Optional members (the real layer has them all; fakes in tests need not).

  /**
   * The protocol send() would use for this message: `tcp` instead of `udp`
   * for a request over UDP_SIZE_THRESHOLD bytes when TCP is listening
   * (§18.1.1), else destination.protocol. The transaction layer asks first,
   * rewrites the top Via (transport and port, from localFor()) when the
   * answer differs, sends to the new destination with { sizeRule: false },
   * and runs its timers as for a reliable transport.
   */
  outboundProtocol?(message: SipMessage, destination: Endpoint): TransportProtocol;
  /** localFor(), but waiting for the kernel's answer instead of a cached or estimated one. */
  resolveLocal?(remote: Endpoint): Promise<Endpoint>;
  /** Called when a stream connection closes (a registered flow is gone, RFC 5626 §5.2). */
  onConnectionClosed?(handler: (info: ConnectionInfo) => void): () => void;
  /**
   * TLS: the client settings for connections opened to this peer address and
   * port from now on (a connection already open is kept); undefined removes them.
   */
  setClientTls?(peer: { address: string; port: number }, settings: ClientTlsSettings | undefined): void;
}
