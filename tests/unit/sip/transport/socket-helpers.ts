/** Raw peers on 127.0.0.1 for the transport tests: they speak bytes, not our stack. */
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export async function waitFor<T>(probe: () => T | undefined, what: string, ms = 2000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface UdpPeer {
  socket: UdpSocket;
  port: number;
  received: Array<{ data: Buffer; port: number; address: string }>;
  send(data: string | Buffer, port: number): Promise<void>;
  close(): Promise<void>;
}

export async function udpPeer(port = 0): Promise<UdpPeer> {
  const socket = createSocket('udp4');
  const received: UdpPeer['received'] = [];
  socket.on('message', (data, rinfo) => received.push({ data, port: rinfo.port, address: rinfo.address }));
  await new Promise<void>((r) => socket.bind(port, '127.0.0.1', () => r()));
  return {
    socket,
    port: socket.address().port,
    received,
    send: (data, p) => new Promise((r, j) => socket.send(typeof data === 'string' ? Buffer.from(data) : data, p, '127.0.0.1', (e) => (e ? j(e) : r()))),
    close: () => new Promise((r) => socket.close(() => r())),
  };
}

export interface TcpClient {
  socket: Socket;
  text(): string;
  closed: () => boolean;
  close(): void;
}

export async function tcpClient(port: number): Promise<TcpClient> {
  const socket = connect({ host: '127.0.0.1', port });
  let buf = '';
  let closed = false;
  socket.on('data', (d: Buffer) => (buf += d.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise<void>((r, j) => {
    socket.once('connect', () => r());
    socket.once('error', j);
  });
  return { socket, text: () => buf, closed: () => closed, close: () => socket.destroy() };
}

export interface TcpServerPeer {
  server: Server;
  port: number;
  connections: Socket[];
  text(): string;
  close(): Promise<void>;
}

export async function tcpServer(port = 0): Promise<TcpServerPeer> {
  const connections: Socket[] = [];
  let buf = '';
  const server = createServer((s) => {
    connections.push(s);
    s.on('data', (d: Buffer) => (buf += d.toString('latin1')));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : 0,
    connections,
    text: () => buf,
    close: () =>
      new Promise((r) => {
        for (const c of connections) c.destroy();
        server.close(() => r());
      }),
  };
}

/** A request as a peer would send it. */
export function rawRequest(opts: { method?: string; via: string; body?: string; callId?: string | null; extra?: string; contentLength?: boolean }): string {
  const method = opts.method ?? 'OPTIONS';
  const body = opts.body ?? '';
  return (
    `${method} sip:gw@127.0.0.1 SIP/2.0\r\n` +
    `Via: ${opts.via}\r\n` +
    'Max-Forwards: 70\r\n' +
    'From: <sip:201@practice.test>;tag=f1\r\n' +
    'To: <sip:gw@practice.test>\r\n' +
    (opts.callId === null ? '' : `Call-ID: ${opts.callId ?? 'c1@192.0.2.9'}\r\n`) +
    `CSeq: 1 ${method}\r\n` +
    (opts.extra ?? '') +
    (opts.contentLength === false ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`) +
    '\r\n' +
    body
  );
}
