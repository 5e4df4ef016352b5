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
}
