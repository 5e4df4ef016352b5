/**
 * The download's own HTTP/1.1 GET against real servers on 127.0.0.1: a
 * node:http server (Content-Length, Range, chunked, redirects, codings), a
 * raw TCP one for what node:http does not send (a body ended by the close,
 * interim 1xx, bare LF, obs-fold), and an https one with a test CA.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodyTooLongError, directGet, parseResponseHead } from '../../../../ota/agent/direct-get.js';
import type { BodySink } from '../../../../ota/agent/direct-get.js';

const BODY = randomBytes(3 * 1024 * 1024 + 77);

/** Collects the body; zero-copy regions of `regionBytes`; says "full" every `fullEvery` takes, then has room again a few ms later. */
class MemSink implements BodySink {
  readonly parts: Buffer[] = [];
  regions = 0;
  copies = 0;
  fulls = 0;
  private region: Buffer | undefined;
  private takes = 0;
  private full = false;
  private waiters: Array<() => void> = [];
  constructor(
    private readonly regionBytes = 100_000,
    private readonly fullEvery = 0,
  ) {}
  get data(): Buffer {
    return Buffer.concat(this.parts);
  }
  space(max: number): Buffer | undefined {
    if (this.full) return undefined;
    this.region = Buffer.alloc(Math.min(max, this.regionBytes));
    return this.region;
  }
  commit(n: number): boolean {
    if (this.full) throw new Error('a region was filled while full');
    this.parts.push(this.region!.subarray(0, n));
    this.regions++;
    return this.took();
  }
  push(data: Buffer): boolean {
    // Allowed while full (the rest of one read): the sink keeps a copy.
    this.parts.push(Buffer.from(data));
    this.copies++;
    return this.full ? false : this.took();
  }
  drained(): Promise<void> {
    return this.full ? new Promise((r) => this.waiters.push(r)) : Promise.resolve();
  }
  private took(): boolean {
    this.takes++;
    if (this.fullEvery && this.takes % this.fullEvery === 0) {
      this.full = true;
      this.fulls++;
      setTimeout(() => {
        this.full = false;
        for (const w of this.waiters.splice(0)) w();
      }, 3);
      return false;
    }
    return true;
  }
}

let server: http.Server;
let base: string;
let raw: net.Server;
let rawBase: string;
/** What the raw server answers, by path. */
const rawReplies = new Map<string, (s: net.Socket) => void>();
const seen: Array<{ path: string; headers: http.IncomingHttpHeaders }> = [];

test.before(async () => {
  server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    switch (req.url) {
      case '/cl': {
        const start = m ? Number(m[1]) : 0;
        if (m) res.writeHead(206, { 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}`, 'content-length': BODY.length - start });
        else res.writeHead(200, { 'content-length': BODY.length });
        res.end(BODY.subarray(start));
        return;
      }
      case '/chunked': {
        res.writeHead(200);
        let at = 0;
        const next = (): void => {
          if (at >= BODY.length) return void res.end();
          const n = 1 + ((at * 7919) % 200_000);
          res.write(BODY.subarray(at, at + n), next);
          at += n;
        };
        next();
        return;
      }
      case '/redirect':
        res.writeHead(302, { location: '/cl' }).end('moved');
        return;
      case '/loop':
        res.writeHead(307, { location: `${base}/loop` }).end();
        return;
      case '/gzip':
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': 3 }).end('abc');
        return;
      case '/bighead':
        res.writeHead(200, { 'x-big': 'a'.repeat(70 * 1024), 'content-length': 1 }).end('x');
        return;
      case '/cut':
        res.writeHead(200, { 'content-length': BODY.length });
        res.write(BODY.subarray(0, 500_000), () => res.socket?.destroy());
        return;
      case '/stall':
        res.writeHead(200, { 'content-length': BODY.length });
        res.write(BODY.subarray(0, 1000));
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  raw = net.createServer((s) => {
    let head = '';
    s.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = head.split(' ')[1] ?? '';
      seen.push({ path: `raw${path}`, headers: {} });
      const reply = rawReplies.get(path);
      if (reply) reply(s);
      else s.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  rawBase = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  rawReplies.set('/close', (s) => {
    s.write('HTTP/1.0 200 OK\r\nServer: old\r\n\r\n');
    s.end(BODY);
  });
  rawReplies.set('/interim', (s) => {
    s.write('HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    s.end();
  });
  rawReplies.set('/lf', (s) => s.end('HTTP/1.1 200 OK\nContent-Length: 2\n\nok'));
  rawReplies.set('/fold', (s) => s.end('HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 2\r\n\r\nok'));
  rawReplies.set('/two-lengths', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!'));
  rawReplies.set('/same-lengths', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok'));
  rawReplies.set('/gzip-te', (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'));
  rawReplies.set('/extra', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA'));
  rawReplies.set('/nohead', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Le'));
});

test.after(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => raw.close(r));
});

const signal = (): AbortSignal => new AbortController().signal;

async function getAll(url: string, sink = new MemSink(), limit = BODY.length, headers?: Record<string, string>): Promise<{ status: number; sink: MemSink }> {
  const res = await directGet(url, { signal: signal(), headers });
  await res.readBody(sink, limit, () => undefined);
  return { status: res.status, sink };
}

test('a Content-Length body arrives whole and in order, mostly through zero-copy regions', async () => {
  const { status, sink } = await getAll(`${base}/cl`);
  assert.is(status, 200);
  assert.ok(sink.data.equals(BODY));
  assert.ok(sink.regions > sink.copies, `regions ${sink.regions}, copies ${sink.copies}`);
  const req = seen.at(-1)!;
  assert.is(req.headers['accept-encoding'], 'identity');
  assert.is(req.headers.connection, 'close');
  assert.is(req.headers.host, new URL(base).host);
});

test('Range: 206 with the rest of the body; the caller sees the status and headers', async () => {
  const res = await directGet(`${base}/cl`, { signal: signal(), headers: { Range: 'bytes=1000000-' } });
  assert.is(res.status, 206);
  assert.is(res.headers['content-range'], `bytes 1000000-${BODY.length - 1}/${BODY.length}`);
  assert.is(res.contentLength, BODY.length - 1_000_000);
  const sink = new MemSink();
  await res.readBody(sink, BODY.length, () => undefined);
  assert.ok(sink.data.equals(BODY.subarray(1_000_000)));
});

test('backpressure: a sink that fills up now and then still gets every byte in order', async () => {
  const { sink } = await getAll(`${base}/cl`, new MemSink(30_000, 3));
  assert.ok(sink.fulls > 10, `full ${sink.fulls} times`);
  assert.ok(sink.data.equals(BODY));
});

test('a chunked body is decoded', async () => {
  const { sink } = await getAll(`${base}/chunked`, new MemSink(100_000, 5));
  assert.ok(sink.data.equals(BODY));
});

test('a body without length ends with the connection (HTTP/1.0 style)', async () => {
  const { sink } = await getAll(`${rawBase}/close`);
  assert.ok(sink.data.equals(BODY));
});

test('interim 1xx responses are skipped; bare-LF heads are read; repeated equal lengths are one', async () => {
  assert.is((await getAll(`${rawBase}/interim`)).sink.data.toString(), 'hello');
  assert.is((await getAll(`${rawBase}/lf`)).sink.data.toString(), 'ok');
  assert.is((await getAll(`${rawBase}/same-lengths`)).sink.data.toString(), 'ok');
  assert.is((await getAll(`${rawBase}/extra`)).sink.data.toString(), 'ok', 'bytes past Content-Length are not body');
});

test('redirects are followed, up to a limit', async () => {
  const { status, sink } = await getAll(`${base}/redirect`);
  assert.is(status, 200);
  assert.ok(sink.data.equals(BODY));
  const err = await directGet(`${base}/loop`, { signal: signal(), maxRedirects: 3 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.match(String(err), /too many redirects/);
});

test('refused: content codings, transfer codings other than chunked, conflicting lengths, obs-fold, a huge head, a truncated head', async () => {
  const cases: Array<[string, RegExp]> = [
    [`${base}/gzip`, /Content-Encoding gzip/],
    [`${rawBase}/gzip-te`, /Transfer-Encoding/],
    [`${rawBase}/two-lengths`, /Content-Length/],
    [`${rawBase}/fold`, /header line/],
    [`${base}/bighead`, /larger than/],
    [`${rawBase}/nohead`, /before the response head/],
    ['ftp://127.0.0.1/x', /scheme/],
  ];
  for (const [url, re] of cases) {
    const err = await getAll(url).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.match(String(err), re, url);
  }
});

test('a limit: no byte past it reaches the sink, and the excess is an error', async () => {
  const sink = new MemSink();
  const err = await getAll(`${base}/cl`, sink, 1_000_000).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof BodyTooLongError, String(err));
  assert.is(sink.data.length, 1_000_000);
  assert.ok(sink.data.equals(BODY.subarray(0, 1_000_000)));
  const sink2 = new MemSink();
  const err2 = await getAll(`${rawBase}/close`, sink2, 123_456).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err2 instanceof BodyTooLongError, String(err2));
  assert.is(sink2.data.length, 123_456);
});

test('a connection cut inside a Content-Length body is an error, with what arrived kept', async () => {
  const sink = new MemSink();
  const err = await getAll(`${base}/cut`, sink).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.match(String(err), /closed early/);
  assert.ok(sink.data.length >= 1000 && sink.data.length <= 500_000);
  assert.ok(sink.data.equals(BODY.subarray(0, sink.data.length)));
});

test('an abort ends a stalled body at once', async () => {
  const ac = new AbortController();
  const res = await directGet(`${base}/stall`, { signal: ac.signal });
  const sink = new MemSink();
  const p = res.readBody(sink, BODY.length, () => undefined).then(
    () => undefined,
    (e: unknown) => e,
  );
  setTimeout(() => ac.abort(), 20);
  const err = await p;
  assert.ok(err instanceof Error && err.name === 'AbortError', String(err));
  assert.is(sink.data.length, 1000);
});

test('parseResponseHead: status, case-insensitive names, repeated fields joined', () => {
  const h = parseResponseHead('HTTP/1.1 206 Partial Content\r\nX-A: 1\r\nx-a:  2 \r\nContent-Range: bytes 0-1/2');
  assert.is(h.status, 206);
  assert.is(h.headers['x-a'], '1, 2');
  assert.is(h.headers['content-range'], 'bytes 0-1/2');
  assert.is(parseResponseHead('HTTP/1.1 200').status, 200);
  assert.throws(() => parseResponseHead('HTTP/2 200 OK'));
  assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nBad Name: x'));
});

test('https with a private CA; a server the CA did not sign is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-direct-get-tls-'));
  try {
    const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl('req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=update-ca');
    ssl('req', ...EC, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'srv.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'srv.ext');
    ssl('req', '-x509', ...EC, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=other-ca');
    const tlsServer = https.createServer({ key: readFileSync(join(dir, 'srv.key')), cert: readFileSync(join(dir, 'srv.pem')) }, (req, res) => {
      res.writeHead(200, { 'content-length': BODY.length }).end(BODY);
    });
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    try {
      const url = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/b`;
      const res = await directGet(url, { signal: signal(), ca: readFileSync(join(dir, 'ca.pem')) });
      const sink = new MemSink();
      await res.readBody(sink, BODY.length, () => undefined);
      assert.ok(sink.data.equals(BODY));
      const err = await directGet(url, { signal: signal(), ca: readFileSync(join(dir, 'other.pem')) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof Error && /certificate/i.test(err.message), String(err));
    } finally {
      tlsServer.closeAllConnections();
      await new Promise((r) => tlsServer.close(r));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
