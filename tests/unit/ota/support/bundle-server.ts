/**
 * A local HTTP server for bundles on 127.0.0.1 that misbehaves on demand:
 * cuts connections after some bytes, ignores Range, stalls, or answers
 * errors, and counts what it was asked. Test harness code: real timers.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ServerBehaviour {
  /** Cut the connection after this many body bytes, for the next `cutTimes` responses. */
  cutAfterBytes?: number;
  cutTimes?: number;
  /** Answer ranged requests with 200 and the whole file. */
  ignoreRange?: boolean;
  /** Answer this status to the next `failTimes` requests. */
  failStatus?: number;
  failTimes?: number;
  /** Stop sending (keep the socket open) after this many bytes, for the next `stallTimes` responses. */
  stallAfterBytes?: number;
  stallTimes?: number;
  /** Send at most this many bytes per second (0: unlimited). */
  rateBytesPerSec?: number;
  /** A Date header to send instead of the real one. */
  dateHeader?: string;
  /** Send no Content-Length (node:http then uses the chunked coding). */
  chunked?: boolean;
}

export interface BundleServer {
  url(name: string): string;
  /** Serve `path` as /name. */
  serve(name: string, path: string): void;
  behaviour: ServerBehaviour;
  requests: Array<{ path: string; range: string | undefined }>;
  close(): Promise<void>;
}

export async function startBundleServer(): Promise<BundleServer> {
  const files = new Map<string, string>();
  const requests: BundleServer['requests'] = [];
  const b: ServerBehaviour = {};
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    void (async () => {
      const name = (req.url ?? '/').slice(1);
      requests.push({ path: name, range: req.headers.range });
      if (b.dateHeader) res.setHeader('date', b.dateHeader);
      if (b.failStatus && (b.failTimes ?? 0) > 0) {
        b.failTimes! -= 1;
        res.writeHead(b.failStatus).end();
        return;
      }
      const path = files.get(name);
      if (!path) {
        res.writeHead(404).end();
        return;
      }
      const size = (await stat(path)).size;
      let start = 0;
      let end = size - 1;
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (m && !b.ignoreRange) {
        start = Number(m[1]);
        if (m[2]) end = Math.min(size - 1, Number(m[2]));
        if (start >= size) {
          res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
          return;
        }
        res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, ...(b.chunked ? {} : { 'content-length': end - start + 1 }), 'accept-ranges': 'bytes' });
      } else {
        res.writeHead(200, { ...(b.chunked ? {} : { 'content-length': size }), 'accept-ranges': 'bytes' });
      }
      let cutAt = Infinity;
      if (b.cutAfterBytes !== undefined && (b.cutTimes ?? 0) > 0) {
        b.cutTimes! -= 1;
        cutAt = b.cutAfterBytes;
      }
      let stallAt = Infinity;
      if (b.stallAfterBytes !== undefined && (b.stallTimes ?? 0) > 0) {
        b.stallTimes! -= 1;
        stallAt = b.stallAfterBytes;
      }
      let sent = 0;
      const began = Date.now();
      for await (const chunk of createReadStream(path, { start, end, highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
        let data = chunk;
        if (sent + data.length > Math.min(cutAt, stallAt)) data = data.subarray(0, Math.min(cutAt, stallAt) - sent);
        if (data.length > 0) {
          if (!res.write(data)) await new Promise((r) => res.once('drain', r));
          sent += data.length;
        }
        if (sent >= cutAt) {
          res.socket?.destroy();
          return;
        }
        if (sent >= stallAt) return; // leave the response open and silent
        if (b.rateBytesPerSec) {
          const due = began + (sent / b.rateBytesPerSec) * 1000;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      }
      res.end();
    })().catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    serve: (name, path) => files.set(name, path),
    behaviour: b,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
