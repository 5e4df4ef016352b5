/**
 * A TCP or TLS transport: the listening server and the pool of connections
 * (RFC 3261 §18.3; TLS per §26.2.1 over node:tls).
 *
 * Connection reuse: a connection is keyed by the remote endpoint, so a send
 * to an endpoint that already has an open connection (ours or the peer's,
 * RFC 3261 §18.1.1 "SHOULD use an existing connection") reuses it. A peer
 * that advertises `alias` in its Via (RFC 5923 §6) is also reachable at its
 * sent-by over the connection it opened. Connections with no traffic for
 * idleTimeoutMs are closed; a registrar that must keep a phone's flow open
 * relies on the phone's CRLF keep-alives (RFC 5626) or re-registrations,
 * which count as traffic.
 */
import { connect as netConnect, createServer as netCreateServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { PgwError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { ClientTlsSettings, Endpoint } from './api.js';
import { canonicalAddress } from './local-address.js';
import { checkSipServerIdentity } from './sip-server-identity.js';
import { StreamConnection } from './stream-connection.js';
import type { StreamConnectionHooks } from './stream-connection.js';
import type { StreamFramerOptions } from './stream-framer.js';
import { unmapV4 } from './udp-listener.js';

export interface TlsSettings {
  cert: string | Buffer;
  key: string | Buffer;
  /** Trusted CAs for verifying peers; default: Node's bundled roots. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Verify the peer's certificate when we are the client. Default true. */
  rejectUnauthorized?: boolean;
}

export interface StreamTransportOptions {
  protocol: 'tcp' | 'tls';
  host: string;
  port: number;
  tls?: TlsSettings;
  clock: Clock;
  logger: Logger;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  maxConnections: number;
  framer: StreamFramerOptions;
  onFrame: StreamConnectionHooks['onFrame'];
  onClose: StreamConnectionHooks['onClose'];
}

let nextId = 1;

export class StreamTransport {
  readonly protocol: 'tcp' | 'tls';
  private server: Server | undefined;
  private bound: Endpoint | undefined;
  private readonly connections = new Map<string, StreamConnection>();
  private readonly byRemote = new Map<string, StreamConnection>();
  private readonly pending = new Map<string, Promise<StreamConnection>>();
  private sweepTimer: TimerHandle | undefined;
  private readonly hooks: StreamConnectionHooks;
  private closed = false;

  constructor(private readonly options: StreamTransportOptions) {
    this.protocol = options.protocol;
    this.hooks = {
      clock: options.clock,
      onFrame: options.onFrame,
      onClose: (conn, err) => this.forget(conn, err),
    };
  }

  get endpoint(): Endpoint {
    if (!this.bound) throw new PgwError('PGW_E_SIP_TRANSPORT', `${this.protocol} transport not listening`);
    return this.bound;
  }

  get family(): 4 | 6 {
    return isIP(this.options.host) === 6 ? 6 : 4;
  }

  get wildcard(): boolean {
    return this.options.host === '0.0.0.0' || this.options.host === '::';
  }

  /** Open connections, for tests and diagnostics. */
  get size(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    const { protocol, host, port, tls } = this.options;
    let server: Server;
    if (protocol === 'tls') {
      if (!tls) throw new PgwError('PGW_E_SIP_TRANSPORT', 'a TLS listener needs tls.cert and tls.key');
      const tlsServer = tlsCreateServer({ cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}) });
      tlsServer.on('secureConnection', (socket: TLSSocket) => this.accept(socket));
      tlsServer.on('tlsClientError', (err, socket) => {
        this.options.logger.debug({ err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
        socket.destroy();
      });
      server = tlsServer;
    } else {
      server = netCreateServer((socket) => this.accept(socket));
    }
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void =>
        reject(
          new PgwError('PGW_E_SIP_TRANSPORT', `cannot listen on ${protocol} ${host}:${port}: ${err.message}`, {
            cause: err,
            context: { protocol, host, port },
          }),
        );
      server.once('error', onError);
      server.listen({ port, host, exclusive: true }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.options.logger.warn({ err: err.message, protocol }, 'listener error'));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new PgwError('PGW_E_SIP_TRANSPORT', 'listener has no address');
    this.bound = { protocol, address: addr.address, port: addr.port };
  }

  get(connectionId: string): StreamConnection | undefined {
    const c = this.connections.get(connectionId);
    return c && c.state === 'open' ? c : undefined;
  }

  /** An open connection to this remote endpoint, if there is one. */
  findTo(remote: Endpoint): StreamConnection | undefined {
    const c = this.byRemote.get(key(remote.address, remote.port));
    return c && c.state === 'open' ? c : undefined;
  }

  /** RFC 5923: the peer asked that its sent-by be reachable over this connection. */
  alias(conn: StreamConnection, address: string, port: number): void {
    if (conn.state !== 'open') return;
    const k = key(address, port);
    if (this.byRemote.get(k) !== conn) this.byRemote.set(k, conn);
  }

  /**
   * An open connection to destination: the one asked for, an existing one, or
   * a new one (TLS: checked against tlsServerName, with clientTls over the
   * transport's own settings).
   */
  async connectionFor(destination: Endpoint, options: { connectionId?: string; tlsServerName?: string; clientTls?: ClientTlsSettings }): Promise<StreamConnection> {
    if (this.closed) throw new PgwError('PGW_E_SIP_TRANSPORT', `${this.protocol} transport closed`);
    if (options.connectionId) {
      const c = this.get(options.connectionId);
      if (c) return c;
    }
    const existing = this.findTo(destination);
    if (existing) return existing;
    const k = key(destination.address, destination.port);
    let p = this.pending.get(k);
    if (!p) {
      p = this.open(destination, options.tlsServerName, options.clientTls).finally(() => this.pending.delete(k));
      this.pending.set(k, p);
    }
    return p;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    for (const c of this.connections.values()) c.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.closed || this.connections.size >= this.options.maxConnections) {
      this.options.logger.warn({ remote: socket.remoteAddress, max: this.options.maxConnections }, 'connection refused: too many connections');
      socket.destroy();
      return;
    }
    const remote: Endpoint = { protocol: this.protocol, address: unmapV4(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    const conn = new StreamConnection(`${this.protocol}-${nextId++}`, this.protocol, socket, true, remote, this.hooks, this.options.framer);
    this.remember(conn);
  }

  private open(destination: Endpoint, tlsServerName?: string, clientTls?: ClientTlsSettings): Promise<StreamConnection> {
    const { protocol, tls, clock, connectTimeoutMs } = this.options;
    let socket: Socket;
    if (protocol === 'tls') {
      const opts: ConnectionOptions = {
        host: destination.address,
        port: destination.port,
        rejectUnauthorized: tls?.rejectUnauthorized ?? true,
        // RFC 5922 §7: the peer's certificate must name the server name (SIP URI or DNS SANs).
        checkServerIdentity: checkSipServerIdentity,
      };
      // SNI carries names only (RFC 6066 §3), never an address literal; the
      // identity check uses the same name, or the address (IP SANs).
      const name = tlsServerName ?? destination.address;
      if (isIP(name) === 0) opts.servername = name;
      const ca = clientTls?.ca ?? tls?.ca;
      if (ca) opts.ca = ca;
      // A peer's own client certificate (an uplink's) wins over the listener's.
      const pair = clientTls?.cert && clientTls.key ? clientTls : tls;
      if (pair?.cert && pair.key) {
        opts.cert = pair.cert;
        opts.key = pair.key;
      }
      socket = tlsConnect(opts);
    } else {
      socket = netConnect({ host: destination.address, port: destination.port });
    }
    const conn = new StreamConnection(`${protocol}-${nextId++}`, protocol, socket, false, { ...destination, protocol }, this.hooks, this.options.framer);
    this.remember(conn);
    return new Promise((resolve, reject) => {
      const timer = clock.setTimer(connectTimeoutMs, () => conn.destroy(new Error(`connect timeout after ${connectTimeoutMs} ms`)));
      const onUp = (): void => {
        timer.cancel();
        socket.off('close', onDown);
        conn.opened();
        resolve(conn);
      };
      const onDown = (): void => {
        timer.cancel();
        socket.off(protocol === 'tls' ? 'secureConnect' : 'connect', onUp);
        reject(
          new PgwError('PGW_E_SIP_TRANSPORT', `cannot connect ${protocol} to ${destination.address}:${destination.port}: ${conn.lastError?.message ?? 'closed'}`, {
            cause: conn.lastError,
            context: { destination, stage: 'connect' },
          }),
        );
      };
      socket.once(protocol === 'tls' ? 'secureConnect' : 'connect', onUp);
      socket.once('close', onDown);
    });
  }

  private remember(conn: StreamConnection): void {
    this.connections.set(conn.id, conn);
    this.byRemote.set(key(conn.remote.address, conn.remote.port), conn);
    this.scheduleSweep();
  }

  private forget(conn: StreamConnection, err?: Error): void {
    this.connections.delete(conn.id);
    for (const [k, c] of this.byRemote) if (c === conn) this.byRemote.delete(k);
    if (this.connections.size === 0) {
      this.sweepTimer?.cancel();
      this.sweepTimer = undefined;
    }
    this.options.onClose(conn, err);
  }

  /** Close connections idle for idleTimeoutMs; runs only while connections exist. */
  private scheduleSweep(): void {
    if (this.sweepTimer || this.closed) return;
    const period = Math.max(1000, Math.floor(this.options.idleTimeoutMs / 4));
    this.sweepTimer = this.options.clock.setTimer(period, () => {
      this.sweepTimer = undefined;
      const now = this.options.clock.monotonic();
      for (const c of this.connections.values()) {
        if (c.state === 'open' && now - c.lastActivity >= this.options.idleTimeoutMs) {
          this.options.logger.debug({ connectionId: c.id, remote: c.remote }, 'closing idle connection');
          c.end();
        }
      }
      if (this.connections.size > 0) this.scheduleSweep();
    });
  }
}

function key(address: string, port: number): string {
  return `${canonicalAddress(address)}|${port}`;
}
