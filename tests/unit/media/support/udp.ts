/** UDP helpers for relay tests: fake phones on 127.0.0.1 with a queue of what they received. */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';

export interface Received {
  buf: Buffer;
  from: RemoteInfo;
}

export class FakePhone {
  readonly rtp: Socket;
  readonly rtcp: Socket;
  private readonly queues: Record<'rtp' | 'rtcp', Received[]> = { rtp: [], rtcp: [] };
  private readonly waiters: Record<'rtp' | 'rtcp', Array<(r: Received) => void>> = { rtp: [], rtcp: [] };

  private constructor(rtp: Socket, rtcp: Socket) {
    this.rtp = rtp;
    this.rtcp = rtcp;
    for (const kind of ['rtp', 'rtcp'] as const) {
      (kind === 'rtp' ? rtp : rtcp).on('message', (buf, from) => {
        const w = this.waiters[kind].shift();
        if (w) w({ buf, from });
        else this.queues[kind].push({ buf, from });
      });
    }
  }

  static async create(): Promise<FakePhone> {
    const bind = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = createSocket('udp4');
        s.once('error', reject);
        s.bind(0, '127.0.0.1', () => resolve(s));
      });
    return new FakePhone(await bind(), await bind());
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }
  get rtcpPort(): number {
    return this.rtcp.address().port;
  }

  send(buf: Uint8Array, port: number, kind: 'rtp' | 'rtcp' = 'rtp'): Promise<void> {
    return new Promise((resolve, reject) => (kind === 'rtp' ? this.rtp : this.rtcp).send(buf, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }

  /** The next datagram, or a rejection after timeoutMs. */
  next(kind: 'rtp' | 'rtcp' = 'rtp', timeoutMs = 1000): Promise<Received> {
    const q = this.queues[kind].shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters[kind].indexOf(done);
        if (i >= 0) this.waiters[kind].splice(i, 1);
        reject(new Error(`no ${kind} packet within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (r: Received): void => {
        clearTimeout(timer);
        resolve(r);
      };
      this.waiters[kind].push(done);
    });
  }

  /** Resolves true if nothing arrives within ms (and drains what did arrive otherwise). */
  async silent(kind: 'rtp' | 'rtcp' = 'rtp', ms = 60): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    const empty = this.queues[kind].length === 0;
    this.queues[kind].length = 0;
    return empty;
  }

  close(): void {
    this.rtp.close();
    this.rtcp.close();
  }
}

/** An unrelated socket (a would-be hijacker, or the phone's new NAT binding). */
export function otherSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

export function sendFrom(sock: Socket, buf: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) => sock.send(buf, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}
