/**
 * The transport layer (RFC 3261 §18, RFC 3581): UDP, TCP and TLS listeners
 * behind the TransportLayer interface of api.ts.
 *
 * Inbound, every datagram or framed stream message goes through one pipeline:
 *
 *   bytes ─trace─> keep-alive? ─> parse ─┬─ fails ─> 400 if the partial headers allow it, else drop
 *                                        └─ ok ──> check mandatory headers ─┬─ bad request ─> 400
 *                                                                           ├─ bad response ─> drop
 *                                                                           └─ ok ─> stamp Via (requests) ─> handlers
 *
 * Bad input is logged at a limited rate per source and never throws.
 *
 * Outbound, send() serializes once, applies the §18.1.1 size rule (see
 * outboundProtocol()), and hands the bytes to the UDP socket or to a stream
 * connection (reused when one to the same remote endpoint is open).
 */
import { isIP } from 'node:net';
import type { Clock } from '../../util/clock.js';
import { PgwError, isPgwError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { Headers } from '../message/headers.js';
import { generateTag, parseMessage, reasonPhrase, serializeMessage } from '../message/index.js';
import type { ParseFailure } from '../message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/types.js';
import { UDP_SIZE_THRESHOLD } from './api.js';
import type { ClientTlsSettings, ConnectionInfo, Endpoint, InboundMessage, SendOptions, TransportLayer, TransportProtocol } from './api.js';
import { badRequestReason, whyUnanswerable } from './input-check.js';
import { LocalAddressResolver, canonicalAddress, sameAddress, stripBrackets } from './local-address.js';
import type { LocalAddressResolverOptions } from './local-address.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { responseRoute } from './response-route.js';
import { endpointText, traceSip } from './sip-trace.js';
import type { StreamConnection } from './stream-connection.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HEADER_BYTES } from './stream-framer.js';
import type { FramerEvent } from './stream-framer.js';
import { StreamTransport } from './stream-transport.js';
import type { TlsSettings } from './stream-transport.js';
import { UdpListener } from './udp-listener.js';
import { readTopVia, stampReceived, writeTopVia } from './via-stamp.js';

export type { TlsSettings } from './stream-transport.js';

export interface ListenSpec {
  protocol: TransportProtocol;
  /** An address of this box, or 0.0.0.0 / :: for every interface. */
  host: string;
  /** 0 picks a free port (tests); listening() reports the real one. */
  port: number;
}

export interface TransportLayerOptions {
  listen: ListenSpec[];
  tls?: TlsSettings;
  logger: Logger;
  clock: Clock;
  /** Close stream connections with no traffic for this long. Default 15 min. */
  connectionIdleMs?: number;
  /** Give up opening a TCP/TLS connection after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** Per stream protocol; further inbound connections are refused. Default 10,000. */
  maxConnections?: number;
  /** Stream framing caps (see StreamFramer). Defaults 64 KiB and 1 MiB. */
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  /** Bad-input log budget per source. Default 5 lines per 10 s. */
  badInputLog?: { perWindow?: number; windowMs?: number };
  /** How localFor() learns the address facing a remote (tests override probe/estimate). */
  localAddress?: Omit<LocalAddressResolverOptions, 'clock'>;
}

/** IPv4 UDP payload limit: 65,535 minus the IP and UDP headers. */
const MAX_UDP_PAYLOAD_V4 = 65_507;
const MAX_UDP_PAYLOAD_V6 = 65_527;

type Listener = { protocol: 'udp'; udp: UdpListener } | { protocol: 'tcp' | 'tls'; stream: StreamTransport };

export class SipTransportLayer implements TransportLayer {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly udp: UdpListener[] = [];
  private readonly streams = new Map<'tcp' | 'tls', StreamTransport[]>();
  private readonly handlers = new Set<(inbound: InboundMessage) => void>();
  private readonly closeHandlers = new Set<(info: ConnectionInfo) => void>();
  private readonly resolver: LocalAddressResolver;
  private readonly badInput: RateLimitedLog;
  /** Per-peer client TLS (uplinks with their own CA or certificate), by canonical address and port. */
  private readonly clientTls = new Map<string, ClientTlsSettings>();
  private closed = false;

  constructor(private readonly options: TransportLayerOptions) {
    this.logger = options.logger.child({ component: 'sip-transport' });
    this.clock = options.clock;
    this.resolver = new LocalAddressResolver({ clock: options.clock, ...options.localAddress });
    this.badInput = new RateLimitedLog({ logger: this.logger, clock: options.clock, ...options.badInputLog });
  }

  /** Bind every listener; on failure, whatever was bound is closed again. */
  async start(): Promise<void> {
    const { listen, tls } = this.options;
    if (listen.length === 0) throw new PgwError('PGW_E_SIP_TRANSPORT', 'no listen address configured');
    try {
      for (const spec of listen) {
        const l = this.makeListener(spec, tls);
        if (l.protocol === 'udp') {
          await l.udp.start();
          this.udp.push(l.udp);
        } else {
          await l.stream.start();
          const list = this.streams.get(l.protocol) ?? [];
          list.push(l.stream);
          this.streams.set(l.protocol, list);
        }
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    this.logger.info({ listening: this.listening().map(endpointText) }, 'SIP transports listening');
  }

  onMessage(handler: (inbound: InboundMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onConnectionClosed(handler: (info: ConnectionInfo) => void): () => void {
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  listening(): Endpoint[] {
    const out: Endpoint[] = this.udp.map((u) => u.endpoint);
    for (const list of this.streams.values()) for (const s of list) out.push(s.endpoint);
    return out;
  }

  localFor(remote: Endpoint): Endpoint {
    return this.pickLocal(remote, this.resolver.lookup(stripBrackets(remote.address)));
  }

  async resolveLocal(remote: Endpoint): Promise<Endpoint> {
    return this.pickLocal(remote, await this.resolver.resolve(stripBrackets(remote.address)));
  }

  outboundProtocol(message: SipMessage, destination: Endpoint): TransportProtocol {
    if (!this.sizeRuleApplies(message, destination)) return destination.protocol;
    return serializeMessage(message).length > UDP_SIZE_THRESHOLD ? 'tcp' : destination.protocol;
  }

  async send(message: SipMessage, destination: Endpoint, options: SendOptions = {}): Promise<void> {
    if (this.closed) throw new PgwError('PGW_E_SIP_TRANSPORT', 'transport layer closed');
    const dest: Endpoint = { ...destination, address: stripBrackets(destination.address) };
    const data = serializeMessage(message);
    if (options.sizeRule !== false && this.sizeRuleApplies(message, dest) && data.length > UDP_SIZE_THRESHOLD) {
      // §18.1.1: too big for UDP, so over TCP with the Via saying so; if TCP
      // cannot even connect, the RFC says to retry over UDP.
      const tcpDest: Endpoint = { ...dest, protocol: 'tcp' };
      const overTcp = this.withViaTransport(message, tcpDest);
      try {
        await this.sendBytes(serializeMessage(overTcp), tcpDest, options);
        return;
      } catch (err) {
        if (!(isPgwError(err) && err.context.stage === 'connect')) throw err;
        this.logger.debug({ destination: endpointText(dest), err: (err as Error).message }, '§18.1.1: TCP refused, falling back to UDP');
      }
    }
    await this.sendBytes(data, dest, options);
  }

  setClientTls(peer: { address: string; port: number }, settings: ClientTlsSettings | undefined): void {
    const k = peerKey(peer.address, peer.port);
    if (settings) this.clientTls.set(k, settings);
    else this.clientTls.delete(k);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    this.resolver.close();
    this.badInput.close();
    const all: Array<Promise<void>> = this.udp.map((u) => u.close());
    for (const list of this.streams.values()) for (const s of list) all.push(s.close());
    await Promise.all(all);
  }

  /** Open stream connections, for tests and diagnostics. */
  connectionCount(): number {
    let n = 0;
    for (const list of this.streams.values()) for (const s of list) n += s.size;
    return n;
  }

  // ---- outbound -----------------------------------------------------------

  private sizeRuleApplies(message: SipMessage, destination: Endpoint): boolean {
    return destination.protocol === 'udp' && message.kind === 'request' && (this.streams.get('tcp')?.length ?? 0) > 0;
  }

  /** A copy of message whose top Via names the protocol and our port for it. */
  private withViaTransport(message: SipMessage, destination: Endpoint): SipMessage {
    const copy = { ...message, headers: message.headers.clone() } as SipMessage;
    const via = readTopVia(copy);
    if (via) {
      const local = this.localFor(destination);
      writeTopVia(copy, { ...via, transport: destination.protocol.toUpperCase(), port: local.port });
    }
    return copy;
  }

  private async sendBytes(data: Buffer, dest: Endpoint, options: SendOptions): Promise<void> {
    if (dest.protocol === 'udp') {
      const family = isIP(dest.address);
      if (family === 0) throw new PgwError('PGW_E_SIP_TRANSPORT', `not an IP address: ${dest.address}`, { context: { destination: dest } });
      const limit = family === 6 ? MAX_UDP_PAYLOAD_V6 : MAX_UDP_PAYLOAD_V4;
      if (data.length > limit) {
        throw new PgwError('PGW_E_SIP_TRANSPORT', `message of ${data.length} bytes is too large for UDP`, { context: { destination: dest } });
      }
      const socket = this.udpFor(dest, options.local);
      const target = socket.family === 6 && family === 4 ? { ...dest, address: `::ffff:${dest.address}` } : dest;
      traceSip(this.logger, 'send', dest, socket.wildcard ? undefined : socket.endpoint, data);
      await socket.send(data, target);
      return;
    }
    const stream = this.streamFor(dest);
    const connOptions: { connectionId?: string; tlsServerName?: string; clientTls?: ClientTlsSettings } = {};
    if (options.connectionId) connOptions.connectionId = options.connectionId;
    if (options.tlsServerName) connOptions.tlsServerName = options.tlsServerName;
    const clientTls = dest.protocol === 'tls' ? this.clientTls.get(peerKey(dest.address, dest.port)) : undefined;
    if (clientTls) connOptions.clientTls = clientTls;
    const conn = await stream.connectionFor(dest, connOptions);
    traceSip(this.logger, 'send', conn.remote, conn.local, data);
    await conn.write(data);
  }

  private udpFor(dest: Endpoint, local?: Endpoint): UdpListener {
    if (this.udp.length === 0) throw new PgwError('PGW_E_SIP_TRANSPORT', 'no UDP transport is listening', { context: { destination: dest } });
    if (local) {
      const exact = this.udp.find((u) => u.endpoint.port === local.port && (u.wildcard || sameAddress(u.endpoint.address, local.address)));
      if (exact) return exact;
    }
    const address = this.localFor(dest).address;
    return (
      this.udp.find((u) => !u.wildcard && sameAddress(u.endpoint.address, address)) ??
      this.udp.find((u) => u.family === familyOf(dest.address)) ??
      this.udp.find((u) => u.wildcard && u.family === 6) ??
      this.udp[0]!
    );
  }

  private streamFor(dest: Endpoint): StreamTransport {
    const protocol = dest.protocol as 'tcp' | 'tls';
    const list = this.streams.get(protocol) ?? [];
    if (list.length === 0) throw new PgwError('PGW_E_SIP_TRANSPORT', `no ${protocol.toUpperCase()} transport is listening`, { context: { destination: dest } });
    const address = this.localFor(dest).address;
    return (
      list.find((s) => !s.wildcard && sameAddress(s.endpoint.address, address)) ??
      list.find((s) => s.family === familyOf(dest.address)) ??
      list[0]!
    );
  }

  /** The listener of remote's protocol that faces `address`, with the address to advertise. */
  private pickLocal(remote: Endpoint, address: string): Endpoint {
    const candidates: Array<{ endpoint: Endpoint; wildcard: boolean; family: 4 | 6 }> =
      remote.protocol === 'udp'
        ? this.udp.map((u) => ({ endpoint: u.endpoint, wildcard: u.wildcard, family: u.family }))
        : (this.streams.get(remote.protocol) ?? []).map((s) => ({ endpoint: s.endpoint, wildcard: s.wildcard, family: s.family }));
    const exact = candidates.find((c) => !c.wildcard && sameAddress(c.endpoint.address, address));
    if (exact) return { protocol: remote.protocol, address: exact.endpoint.address, port: exact.endpoint.port };
    const family = familyOf(remote.address);
    const wildcard = candidates.find((c) => c.wildcard && (c.family === family || c.family === 6));
    if (wildcard) return { protocol: remote.protocol, address, port: wildcard.endpoint.port };
    // Only specific addresses, none of them the kernel's choice: the best we
    // can do is one of ours of the right family (packets leave from it anyway).
    const sameFamily = candidates.find((c) => c.family === family) ?? candidates[0];
    if (sameFamily) return { protocol: remote.protocol, address: sameFamily.endpoint.address, port: sameFamily.endpoint.port };
    return { protocol: remote.protocol, address, port: 0 };
  }

  // ---- inbound ------------------------------------------------------------

  private makeListener(spec: ListenSpec, tls: TlsSettings | undefined): Listener {
    const host = stripBrackets(spec.host);
    if (isIP(host) === 0) throw new PgwError('PGW_E_SIP_TRANSPORT', `listen host must be an IP address: ${spec.host}`);
    switch (spec.protocol) {
      case 'udp':
        return {
          protocol: 'udp',
          udp: new UdpListener(host, spec.port, this.logger, (data, source, listener) => {
            const local: Endpoint = listener.wildcard
              ? { protocol: 'udp', address: this.resolver.lookup(source.address), port: listener.endpoint.port }
              : listener.endpoint;
            this.receive(data, source, local, undefined);
          }),
        };
      case 'tcp':
      case 'tls': {
        if (spec.protocol === 'tls' && !tls) throw new PgwError('PGW_E_SIP_TRANSPORT', 'a TLS listener needs tls.cert and tls.key');
        const protocol = spec.protocol;
        const stream: StreamTransport = new StreamTransport({
          protocol,
          host,
          port: spec.port,
          ...(tls ? { tls } : {}),
          clock: this.clock,
          logger: this.logger,
          idleTimeoutMs: this.options.connectionIdleMs ?? 15 * 60_000,
          connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
          maxConnections: this.options.maxConnections ?? 10_000,
          framer: {
            maxHeaderBytes: this.options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
            maxBodyBytes: this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
          },
          onFrame: (event, conn) => this.onFrame(event, conn, stream),
          onClose: (conn, err) => this.onConnectionClose(conn, err),
        });
        return { protocol, stream };
      }
      default: {
        const never: never = spec.protocol;
        throw new PgwError('PGW_E_SIP_TRANSPORT', `unknown transport ${String(never)}`);
      }
    }
  }

  private onFrame(event: Extract<FramerEvent, { type: 'message' } | { type: 'error' }>, conn: StreamConnection, stream: StreamTransport): void {
    if (event.type === 'message') {
      this.receive(event.data, conn.remote, conn.local, conn, stream);
      return;
    }
    this.warnBadInput(conn.remote, { problem: event.reason }, 'stream framing error; closing the connection');
    if (!event.head) return;
    // The header block was complete: answer 400 if it was a request (the
    // connection closes after the write is flushed).
    try {
      const parsed = parseMessage(event.head);
      const message = parsed.ok ? parsed.message : undefined;
      if (message?.kind === 'request') this.rejectRequest(message, event.reason, conn.remote, conn.local, conn);
    } catch {
      /* nothing to answer */
    }
  }

  private onConnectionClose(conn: StreamConnection, err?: Error): void {
    if (err && this.logger.isLevelEnabled('debug')) this.logger.debug({ connectionId: conn.id, remote: endpointText(conn.remote), err: err.message }, 'connection closed');
    const info = conn.info();
    for (const h of this.closeHandlers) {
      try {
        h(info);
      } catch (e) {
        this.logger.error({ err: (e as Error).message }, 'connection-closed handler threw');
      }
    }
  }

  /** The inbound pipeline. Never throws: input cannot kill the process. */
  private receive(data: Buffer, source: Endpoint, local: Endpoint, conn: StreamConnection | undefined, stream?: StreamTransport): void {
    try {
      traceSip(this.logger, 'recv', source, local, data);
      if (!conn && isDatagramKeepAlive(data)) return;
      const parsed = parseMessage(data);
      if (!parsed.ok) {
        this.malformed(parsed, source, local, conn);
        return;
      }
      const message = parsed.message;
      // The parser has checked the mandatory headers and every Via value.
      const via = readTopVia(message);
      if (!via) {
        this.warnBadInput(source, { problem: 'no usable Via' }, 'message dropped');
        return;
      }
      if (message.kind === 'request') {
        const stamped = stampReceived(message, via, source);
        // RFC 5923 §6: the peer offers this connection for requests to its sent-by.
        if (conn && stream && stamped.params.has('alias') && sameAddress(stamped.host, source.address)) {
          stream.alias(conn, source.address, stamped.port ?? 5060);
        }
      }
      const inbound: InboundMessage = conn ? { message, source, local, connectionId: conn.id } : { message, source, local };
      for (const h of this.handlers) {
        try {
          h(inbound);
        } catch (err) {
          this.logger.error({ err: (err as Error).message, stack: (err as Error).stack }, 'inbound message handler threw');
        }
      }
    } catch (err) {
      this.logger.error({ err: (err as Error).message, stack: (err as Error).stack, source: endpointText(source) }, 'inbound message handling failed');
    }
  }

  /**
   * Bad input is counted per source address, not per port: a scanner that
   * sends every datagram from a new port must not get a fresh log budget
   * for each (bad-input.test.ts found 39 lines for 40 datagrams).
   */
  private warnBadInput(source: Endpoint, fields: Record<string, unknown>, msg: string): void {
    const address = source.address.includes(':') ? `[${source.address}]` : source.address;
    this.badInput.warn(`${source.protocol}:${address}`, { from: endpointText(source), ...fields }, msg);
  }

  /** A message that did not parse: answered (400, or 505/501 as the parser says) when the partial headers allow it, else dropped. */
  private malformed(failure: ParseFailure, source: Endpoint, local: Endpoint, conn: StreamConnection | undefined): void {
    const p = failure.partial;
    if (p && p.isRequest && p.method !== undefined && failure.status !== undefined) {
      const request: SipRequest = { kind: 'request', method: p.method, uri: '', headers: p.headers, body: Buffer.alloc(0) };
      this.rejectRequest(request, failure.error, source, local, conn, failure.status);
      return;
    }
    this.warnBadInput(source, { problem: failure.error }, p && !p.isRequest ? 'unparseable response dropped' : 'unparseable message dropped');
  }

  /** Answer a broken request (400 with a reason saying what is wrong) when the client could match the answer. */
  private rejectRequest(request: SipRequest, problem: string, source: Endpoint, local: Endpoint, conn: StreamConnection | undefined, status = 400): void {
    const unanswerable = whyUnanswerable(request);
    const via = readTopVia(request);
    if (unanswerable !== undefined || !via) {
      this.warnBadInput(source, { problem, method: request.method, dropped: unanswerable }, 'bad request dropped');
      return;
    }
    this.warnBadInput(source, { problem, method: request.method, status }, 'bad request answered');
    const stamped = stampReceived(request, via, source);
    const reason = status === 400 ? badRequestReason(problem) : reasonPhrase(status);
    const response = bareResponse(request, status, reason);
    if (conn && conn.state === 'open') {
      // §18.2.2: back over the same connection, written now, before a
      // framing error closes it.
      const data = serializeMessage(response);
      traceSip(this.logger, 'send', conn.remote, conn.local, data);
      conn.write(data).catch((err: unknown) => {
        this.logger.debug({ err: (err as Error).message, connectionId: conn.id }, 'could not answer a bad request');
      });
      return;
    }
    const inbound: InboundMessage = conn ? { message: request, source, local, connectionId: conn.id } : { message: request, source, local };
    const route = responseRoute(stamped, inbound);
    this.send(response, route.destination, route.options).catch((err: unknown) => {
      this.logger.debug({ err: (err as Error).message, destination: endpointText(route.destination) }, 'could not answer a bad request');
    });
  }
}

/**
 * A response built only from what a broken request has (§8.2.6.2: Via,
 * From, To with a tag, Call-ID, CSeq copied where present). createResponse()
 * may reasonably refuse a request missing those; a 400 must not.
 */
function bareResponse(request: SipRequest, status: number, reason: string): SipResponse {
  const headers = new Headers();
  for (const f of request.headers.entries()) if (f.name === 'Via') headers.append('Via', f.value);
  const from = request.headers.get('From');
  if (from !== undefined) headers.append('From', from);
  const to = request.headers.get('To');
  if (to !== undefined) headers.append('To', /;\s*tag\s*=/i.test(to) ? to : `${to};tag=${generateTag()}`);
  for (const name of ['Call-ID', 'CSeq'] as const) {
    const v = request.headers.get(name);
    if (v !== undefined) headers.append(name, v);
  }
  headers.append('Content-Length', '0');
  return { kind: 'response', status, reason, headers, body: Buffer.alloc(0) };
}

/** UDP keep-alives carry no SIP: CRLFs (RFC 5626 §3.5.1 style) or STUN (§4.4.2, first two bits zero). */
function isDatagramKeepAlive(data: Buffer): boolean {
  if (data.length === 0) return true;
  const first = data[0]!;
  if (first < 0x04) return true;
  for (const b of data) if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09) return false;
  return true;
}

function peerKey(address: string, port: number): string {
  return `${canonicalAddress(stripBrackets(address))}|${port}`;
}

function familyOf(address: string): 4 | 6 {
  return isIP(stripBrackets(address)) === 6 ? 6 : 4;
}

/** Create, bind and start the transport layer (RFC 3261 §18). */
export async function createTransportLayer(options: TransportLayerOptions): Promise<SipTransportLayer> {
  const layer = new SipTransportLayer(options);
  await layer.start();
  return layer;
}
