/**
 * The RTP port pool: each call leg gets an even RTP port and the odd RTCP
 * port above it (RFC 3550 §11), bound as real UDP sockets on the address
 * that faces that leg.
 *
 * Free pairs sit in a FIFO ring, so allocation is O(1) and a pair that was
 * just released is reused last: late packets of an old call then find no
 * socket rather than someone else's call. A pair another process holds
 * (EADDRINUSE) goes to the back of the ring and the next is tried; when every
 * free pair has been tried the pool is exhausted (PGW_E_MEDIA_PORTS).
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { PgwError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';

export interface RtpPortPair {
  readonly address: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtp: Socket;
  readonly rtcp: Socket;
  /** Close both sockets and give the pair back to the pool. Idempotent. */
  close(): Promise<void>;
}

export interface RtpPortPoolOptions {
  /** Lowest port (rounded up to even). */
  min: number;
  /** Highest port, inclusive (the last pair must fit below it). */
  max: number;
  logger?: Logger;
  /** Kernel receive buffer per RTP socket; larger absorbs bursts at load. */
  recvBufferSize?: number;
}

function bindSocket(address: string, port: number): Promise<Socket> {
  const type = isIP(address) === 6 ? 'udp6' : 'udp4';
  const sock = createSocket({ type, ipv6Only: type === 'udp6' });
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      sock.removeListener('listening', onListening);
      try {
        sock.close();
      } catch {
        /* never bound */
      }
      reject(err);
    };
    const onListening = (): void => {
      sock.removeListener('error', onError);
      resolve(sock);
    };
    sock.once('error', onError);
    sock.once('listening', onListening);
    sock.bind({ port, address, exclusive: true });
  });
}

function closeSocket(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** Errors that mean "this port is taken, try another" rather than "this address is unusable". */
const PORT_TAKEN = new Set(['EADDRINUSE', 'EACCES']);

export class RtpPortPool {
  readonly min: number;
  readonly max: number;
  private readonly ring: Int32Array;
  private head = 0;
  private count = 0;
  private readonly taken = new Set<number>();
  private readonly logger: Logger | undefined;
  private readonly recvBufferSize: number | undefined;

  constructor(options: RtpPortPoolOptions) {
    const min = options.min + (options.min % 2);
    if (!Number.isInteger(options.min) || !Number.isInteger(options.max) || min < 1024 || options.max > 65_535 || min + 1 > options.max) {
      throw new RangeError(`bad RTP port range ${options.min}-${options.max}`);
    }
    this.min = min;
    this.max = options.max;
    const pairs = Math.floor((options.max - min + 1) / 2);
    this.ring = new Int32Array(pairs);
    for (let i = 0; i < pairs; i++) this.ring[i] = min + 2 * i;
    this.count = pairs;
    this.logger = options.logger;
    this.recvBufferSize = options.recvBufferSize;
  }

  /** Pairs in the range. */
  get capacity(): number {
    return this.ring.length;
  }
  /** Pairs not allocated by this pool (some may still be held by other processes). */
  get available(): number {
    return this.count;
  }
  get inUse(): number {
    return this.taken.size;
  }

  private pop(): number {
    const p = this.ring[this.head]!;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    return p;
  }

  private push(port: number): void {
    this.ring[(this.head + this.count) % this.ring.length] = port;
    this.count++;
  }

  /** Bind a fresh pair on `address`. Throws PGW_E_MEDIA_PORTS when no pair can be bound. */
  async allocate(options: { address: string }): Promise<RtpPortPair> {
    const { address } = options;
    if (isIP(address) === 0) throw new PgwError('PGW_E_MEDIA_PORTS', `not an IP address: ${address}`, { context: { address } });
    let tries = this.count;
    while (tries-- > 0) {
      const port = this.pop();
      this.taken.add(port);
      let rtp: Socket | null = null;
      try {
        rtp = await bindSocket(address, port);
        const rtcp = await bindSocket(address, port + 1);
        return this.pair(address, port, rtp, rtcp);
      } catch (e) {
        if (rtp) await closeSocket(rtp);
        this.taken.delete(port);
        this.push(port);
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (!PORT_TAKEN.has(code)) {
          throw new PgwError('PGW_E_MEDIA_PORTS', `cannot bind RTP on ${address}: ${code || String(e)}`, { cause: e, context: { address, port } });
        }
        this.logger?.debug({ address, port, code }, 'RTP port pair in use elsewhere, trying the next');
      }
    }
    throw new PgwError('PGW_E_MEDIA_PORTS', `no free RTP port pair in ${this.min}-${this.max}`, {
      context: { address, capacity: this.capacity, inUse: this.inUse },
    });
  }

  private pair(address: string, rtpPort: number, rtp: Socket, rtcp: Socket): RtpPortPair {
    // A UDP socket emits 'error' on some send failures; without a listener that would end the process.
    const onError = (err: Error): void => this.logger?.warn({ err: err.message, address, rtpPort }, 'RTP socket error');
    rtp.on('error', onError);
    rtcp.on('error', onError);
    if (this.recvBufferSize) {
      try {
        rtp.setRecvBufferSize(this.recvBufferSize);
      } catch {
        /* the kernel limit applies */
      }
    }
    let closed: Promise<void> | null = null;
    return {
      address,
      rtpPort,
      rtcpPort: rtpPort + 1,
      rtp,
      rtcp,
      close: () => {
        closed ??= Promise.all([closeSocket(rtp), closeSocket(rtcp)]).then(() => {
          this.taken.delete(rtpPort);
          this.push(rtpPort);
        });
        return closed;
      },
    };
  }
}
