/**
 * One bound UDP socket (RFC 3261 §18, unreliable transport).
 *
 * Datagrams up to 65,535 bytes must be accepted (issue 2; RFC 3261 §18.1.1
 * only bounds what we *send* over UDP): libuv reads into a 64 KiB buffer, and
 * the kernel buffers are raised so that a burst of large datagrams (or a
 * REGISTER storm after a power cut) is not dropped before we read it.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { PgwError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { Endpoint } from './api.js';

/** Socket buffer size asked for; the kernel caps it at net.core.[rw]mem_max. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export class UdpListener {
  readonly family: 4 | 6;
  private socket: Socket | undefined;
  private bound: Endpoint | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly logger: Logger,
    private readonly onDatagram: (data: Buffer, source: Endpoint, listener: UdpListener) => void,
  ) {
    this.family = isIP(host) === 6 ? 6 : 4;
  }

  /** The bound address and port (the real port when asked for port 0). */
  get endpoint(): Endpoint {
    if (!this.bound) throw new PgwError('PGW_E_SIP_TRANSPORT', 'UDP listener not bound');
    return this.bound;
  }

  /** Bound to every address of its family (0.0.0.0 or ::). */
  get wildcard(): boolean {
    return this.host === '0.0.0.0' || this.host === '::';
  }

  async start(): Promise<void> {
    const socket = createSocket({ type: this.family === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(
          new PgwError('PGW_E_SIP_TRANSPORT', `cannot bind UDP ${this.host}:${this.port}: ${err.message}`, {
            cause: err,
            context: { host: this.host, port: this.port },
          }),
        );
      };
      socket.once('error', onError);
      socket.bind(this.port, this.host, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    for (const [set, get, name] of [
      [socket.setRecvBufferSize, socket.getRecvBufferSize, 'receive'],
      [socket.setSendBufferSize, socket.getSendBufferSize, 'send'],
    ] as const) {
      try {
        if (get.call(socket) < SOCKET_BUFFER_BYTES) set.call(socket, SOCKET_BUFFER_BYTES);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, buffer: name }, 'could not raise UDP socket buffer');
      }
    }
    const addr = socket.address();
    this.bound = { protocol: 'udp', address: addr.address, port: addr.port };
    socket.on('error', (err) => this.logger.warn({ err: err.message, local: this.bound }, 'UDP socket error'));
    socket.on('message', (data, rinfo) => {
      this.onDatagram(data, { protocol: 'udp', address: unmapV4(rinfo.address), port: rinfo.port }, this);
    });
  }

  send(data: Buffer, destination: Endpoint): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new PgwError('PGW_E_SIP_TRANSPORT', 'UDP listener closed'));
    return new Promise((resolve, reject) => {
      socket.send(data, destination.port, destination.address, (err) => {
        if (err) {
          reject(
            new PgwError('PGW_E_SIP_TRANSPORT', `UDP send to ${destination.address}:${destination.port} failed: ${err.message}`, {
              cause: err,
              context: { destination, bytes: data.length },
            }),
          );
        } else resolve();
      });
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** `::ffff:192.0.2.1` (a v4 peer on a dual-stack socket) → `192.0.2.1`. */
export function unmapV4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
