/**
 * One TCP or TLS connection carrying SIP (RFC 3261 §18.3): a socket, a
 * StreamFramer and the bookkeeping for reuse and idle closing.
 *
 *   connecting ──connect/secureConnect──> open ──end/error/close()──> closed
 *        └──────────error/timeout─────────────────────────────────────┘
 *
 * Inbound connections start open. Write failures and a peer that does not
 * read (more than MAX_WRITE_BACKLOG bytes queued) close the connection.
 */
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { PgwError } from '../../util/errors.js';
import type { ConnectionInfo, Endpoint, TransportProtocol } from './api.js';
import { StreamFramer } from './stream-framer.js';
import type { FramerEvent, StreamFramerOptions } from './stream-framer.js';
import { unmapV4 } from './udp-listener.js';

/** A peer that leaves this much of our output unread is dead or hostile. */
export const MAX_WRITE_BACKLOG = 1024 * 1024;

const PONG = Buffer.from('\r\n');

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface StreamConnectionHooks {
  /** A complete framed message, or a framing error (then the connection closes). */
  onFrame(event: Extract<FramerEvent, { type: 'message' } | { type: 'error' }>, conn: StreamConnection): void;
  onClose(conn: StreamConnection, error?: Error): void;
  clock: Clock;
}

export class StreamConnection {
  state: ConnectionState;
  lastActivity: number;
  local: Endpoint;
  readonly remote: Endpoint;
  private readonly framer: StreamFramer;
  private closeError: Error | undefined;
  private lingerTimer: TimerHandle | undefined;

  constructor(
    readonly id: string,
    readonly protocol: TransportProtocol,
    readonly socket: Socket,
    readonly inbound: boolean,
    remote: Endpoint,
    private readonly hooks: StreamConnectionHooks,
    framerOptions: StreamFramerOptions = {},
  ) {
    this.state = inbound ? 'open' : 'connecting';
    this.remote = remote;
    this.local = { protocol, address: unmapV4(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
    this.lastActivity = hooks.clock.monotonic();
    this.framer = new StreamFramer(framerOptions);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.closeError ??= err;
    });
    socket.on('close', () => this.finish());
    // A half-closed peer sends no more requests; answer what is in flight, then close.
    socket.on('end', () => socket.end());
  }

  /** The socket error that closed (or is closing) the connection. */
  get lastError(): Error | undefined {
    return this.closeError;
  }

  info(): ConnectionInfo {
    return { connectionId: this.id, protocol: this.protocol, remote: this.remote, local: this.local, inbound: this.inbound };
  }

  /** The socket finished connecting (outbound). */
  opened(): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.local = { protocol: this.protocol, address: unmapV4(this.socket.localAddress ?? ''), port: this.socket.localPort ?? 0 };
    this.lastActivity = this.hooks.clock.monotonic();
  }

  write(data: Buffer): Promise<void> {
    if (this.state !== 'open' || this.socket.destroyed) {
      return Promise.reject(new PgwError('PGW_E_SIP_TRANSPORT', `connection ${this.id} is ${this.state}`, { context: { remote: this.remote } }));
    }
    if (this.socket.writableLength > MAX_WRITE_BACKLOG) {
      this.destroy(new Error('peer is not reading (write backlog over limit)'));
      return Promise.reject(new PgwError('PGW_E_SIP_TRANSPORT', `connection ${this.id} write backlog over limit`, { context: { remote: this.remote } }));
    }
    this.lastActivity = this.hooks.clock.monotonic();
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => {
        if (err) {
          reject(new PgwError('PGW_E_SIP_TRANSPORT', `write on ${this.id} failed: ${err.message}`, { cause: err, context: { remote: this.remote } }));
        } else resolve();
      });
    });
  }

  /** Close gracefully after pending writes (idle, or after a framing error). */
  end(): void {
    if (this.state === 'closed') return;
    this.socket.end();
    // A peer that never acknowledges the FIN must not hold the socket forever.
    this.lingerTimer ??= this.hooks.clock.setTimer(5000, () => this.socket.destroy());
  }

  destroy(error?: Error): void {
    if (error) this.closeError ??= error;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.lastActivity = this.hooks.clock.monotonic();
    for (const event of this.framer.push(chunk)) {
      if (event.type === 'ping') {
        // RFC 5626 §3.5.1: a double-CRLF ping is answered with a single CRLF pong.
        if (!this.socket.destroyed) this.socket.write(PONG);
        continue;
      }
      this.hooks.onFrame(event, this);
      if (event.type === 'error') {
        this.end();
        return;
      }
    }
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.lingerTimer?.cancel();
    this.hooks.onClose(this, this.closeError);
  }
}
