/**
 * The bundle download's HTTP/1.1 GET, whose body is read from the socket
 * straight into the download's buffers (the `onread` option of net.Socket
 * and tls.connect: the kernel copies into our memory, nothing is allocated
 * per read, no stream machinery runs per chunk).
 *
 * Why not node:http: in issue 4's benchmark (docs/BENCHMARKS.md,
 * `ota-download`) its parser and IncomingMessage stream cost 0.5–0.9 ms of
 * CPU per MiB on this 2-core VM (user time; as much as the SHA-256 itself,
 * on the same core), against about 0.05 for reading the socket into a
 * caller's buffer; with reads of up to 1 MiB instead of 64 KiB the kernel's
 * side drops too (0.1 ms against 0.3–0.5).
 * The bundle head and everything else keep using node:http (http-get.ts).
 *
 * What it speaks (RFC 9112): one request per connection (`Connection:
 * close`); the status line and header fields; a body framed by
 * Content-Length, by the chunked coding (chunked-decoder.ts, through a copy)
 * or by the end of the connection (§6.3 rule 8); interim 1xx responses
 * skipped (§15.2); redirects 301/302/303/307/308 (RFC 9110 §15.4) up to a
 * limit. `Accept-Encoding: identity` is sent and any other content coding is
 * refused (the hash is of the bytes as published). No proxies (node:http
 * with `agent: false` used none either).
 *
 * Reads land in `BodySink.space()` regions when the sink has room, else in
 * a small scratch buffer that is copied with `push()` (the first read after
 * a pause, bytes that came with the head, chunked bodies). When the sink is
 * full the socket stops reading (TCP backpressure) until `drained()`.
 */
import net from 'node:net';
import tls from 'node:tls';
import { PgwError } from '../../firmware/src/util/errors.js';
import { ChunkedDecoder } from './chunked-decoder.js';

/** Where a response body goes (WritePipeline implements it). */
export interface BodySink {
  /** A region where the next at most `max` (≥ 1) body bytes may be read directly; undefined when there is none. */
  space(max: number): Buffer | undefined;
  /** `n` bytes were read into the start of the region space() returned last; false when there is no room now. */
  commit(n: number): boolean;
  /**
   * Takes a copy of `data`; false when there is no room now. May be called
   * while there is none (the rest of one read: reading has stopped), so the
   * sink holds at most one read's worth beyond its buffers.
   */
  push(data: Buffer): boolean;
  /** Resolves when there is room again (rejects if the sink failed). */
  drained(): Promise<void>;
}

export interface DirectResponse {
  status: number;
  /** Header fields by lower-case name; a repeated field's values joined with ", " (RFC 9110 §5.3). */
  headers: Readonly<Record<string, string | undefined>>;
  /** The body's Content-Length, when it is framed by one. */
  contentLength: number | undefined;
  /**
   * Reads the body into `sink`, at most `limit` bytes (one more is a
   * BodyTooLongError, and no byte past the limit reaches the sink);
   * `onBytes` after each read. Resolves at the end of the body.
   */
  readBody(sink: BodySink, limit: number, onBytes: () => void): Promise<void>;
  /** Drops the connection (the body is not wanted). */
  close(): void;
}

export interface DirectGetOptions {
  headers?: Record<string, string>;
  signal: AbortSignal;
  /** Extra CA certificates (PEM) for https, e.g. a private update server. */
  ca?: string | Buffer;
  maxRedirects?: number;
}

export class BodyTooLongError extends Error {
  constructor(readonly limit: number) {
    super(`the response body is longer than ${limit} bytes`);
    this.name = 'BodyTooLongError';
  }
}

/** Where the head is gathered (and stray reads land): a response head larger than this is refused. */
const SCRATCH_BYTES = 64 * 1024;

export async function directGet(url: string, options: DirectGetOptions): Promise<DirectResponse> {
  let target = url;
  for (let redirects = options.maxRedirects ?? 5; ; redirects--) {
    const res = await getOnce(target, options);
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.status) || location === undefined) return res;
    res.close();
    if (redirects <= 0) throw new PgwError('PGW_E_OTA_DOWNLOAD', `too many redirects from ${url}`);
    target = new URL(location, target).toString();
  }
}

function getOnce(url: string, options: DirectGetOptions): Promise<DirectResponse> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new PgwError('PGW_E_OTA_DOWNLOAD', `bad URL ${url}`));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.reject(new PgwError('PGW_E_OTA_DOWNLOAD', `unsupported URL scheme ${u.protocol}`));
  const conn = new Connection(u, options);
  return conn.head;
}

function requestHead(u: URL, extra: Record<string, string> | undefined): string {
  const fields: Array<[string, string]> = [
    ['Host', u.host],
    ['User-Agent', 'pgw-ota-agent'],
    ['Accept-Encoding', 'identity'],
    ['Connection', 'close'],
  ];
  if (u.username || u.password)
    fields.push(['Authorization', `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`]);
  for (const [k, v] of Object.entries(extra ?? {})) fields.push([k, v]);
  for (const [k, v] of fields) if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new PgwError('PGW_E_OTA_DOWNLOAD', `bad request header ${k}`);
  return `GET ${u.pathname}${u.search} HTTP/1.1\r\n${fields.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

interface ParsedHead {
  status: number;
  headers: Record<string, string>;
}

/** Parses a response head (without the empty line); RFC 9112 §4 and §5. */
export function parseResponseHead(text: string): ParsedHead {
  // §2.2: a recipient may recognise a bare LF as a line terminator.
  const lines = text.split(/\r?\n/);
  const m = /^HTTP\/1\.[01] ([1-9]\d\d)(?: .*)?$/.exec(lines[0] ?? '');
  if (!m) throw new PgwError('PGW_E_OTA_DOWNLOAD', `not an HTTP/1.x response: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    // §5.2: obs-fold is obsolete; a client may reject it. §5.1: no whitespace before the colon.
    const colon = line.indexOf(':');
    if (colon <= 0 || /^[ \t]/.test(line) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(line.slice(0, colon)))
      throw new PgwError('PGW_E_OTA_DOWNLOAD', `bad response header line ${JSON.stringify(line.slice(0, 60))}`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(m[1]), headers };
}

type Framing = { kind: 'length'; left: number } | { kind: 'chunked'; decoder: ChunkedDecoder } | { kind: 'close' } | { kind: 'none' };

/** How the body of a response is delimited (RFC 9112 §6.3). */
function framingOf(h: ParsedHead): Framing {
  if ((h.status >= 100 && h.status < 200) || h.status === 204 || h.status === 304) return { kind: 'none' };
  const te = h.headers['transfer-encoding'];
  if (te !== undefined) {
    const codings = te.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '');
    // Only "chunked" alone is supported: other transfer codings would change the bytes.
    if (codings.length !== 1 || codings[0] !== 'chunked') throw new PgwError('PGW_E_OTA_DOWNLOAD', `unsupported Transfer-Encoding ${te}`);
    return { kind: 'chunked', decoder: new ChunkedDecoder() };
  }
  const cl = h.headers['content-length'];
  if (cl !== undefined) {
    // §6.3 rule 5: a list of identical values is one value; anything else is an error.
    const values = [...new Set(cl.split(',').map((v) => v.trim()))];
    if (values.length !== 1 || !/^\d{1,15}$/.test(values[0]!)) throw new PgwError('PGW_E_OTA_DOWNLOAD', `bad Content-Length ${cl}`);
    return { kind: 'length', left: Number(values[0]) };
  }
  return { kind: 'close' };
}

/**
 * A connection's phases (ARCHITECTURE.md convention 2):
 *
 *   head ──final head parsed──> held ──readBody()──> body ──end of body──> done
 *     │                          │                    │
 *     └──────── error, abort, close(), early close ───┴──────────────────> done
 *
 * In `head` reads gather the head in the scratch buffer; in `held` the
 * socket is paused until the caller wants the body; in `body` reads go to
 * the sink. `done` is final (the socket is destroyed).
 */
type Phase = 'head' | 'held' | 'body' | 'done';

const PHASE_MOVES: Readonly<Record<Phase, readonly Phase[]>> = {
  head: ['held', 'done'],
  held: ['body', 'done'],
  body: ['done'],
  done: [],
};

interface BodyRead {
  sink: BodySink;
  limit: number;
  got: number;
  onBytes: () => void;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** One connection, one request, one response. */
class Connection {
  readonly head: Promise<DirectResponse>;
  private readonly socket: net.Socket;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private headLen = 0;
  private phase: Phase = 'head';
  private framing: Framing = { kind: 'none' };
  /** The sink region handed to the socket for its next read, if the last buffer given was one. */
  private region: Buffer | undefined;
  /** Body bytes that arrived with the head (a copy), fed when readBody() is called. */
  private early: Buffer | undefined;
  private closed = false;
  private failure: Error | undefined;
  private body: BodyRead | undefined;
  private resolveHead!: (r: DirectResponse) => void;
  private rejectHead!: (e: Error) => void;
  private readonly signal: AbortSignal;
  private readonly onAbort = (): void => this.fail(abortError());

  constructor(u: URL, options: DirectGetOptions) {
    this.head = new Promise((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    this.signal = options.signal;
    const request = requestHead(u, options.headers);
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    const onread: net.OnReadOpts = { buffer: (): Buffer => this.nextBuffer(), callback: (n: number, buf: Uint8Array): boolean => this.onRead(n, buf) };
    if (u.protocol === 'https:') {
      // tls.connect takes `onread` like net.connect (Node docs, tls.connect options); @types/node lacks it.
      const tlsOptions: tls.ConnectionOptions & { onread: net.OnReadOpts } = {
        host,
        port: Number(u.port || 443),
        ALPNProtocols: ['http/1.1'],
        ...(options.ca ? { ca: options.ca } : {}),
        onread,
      };
      this.socket = tls.connect(tlsOptions);
      this.socket.once('secureConnect', () => this.socket.write(request));
    } else {
      this.socket = net.connect({ host, port: Number(u.port || 80), onread });
      this.socket.once('connect', () => this.socket.write(request));
    }
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.onClose());
    if (this.signal.aborted) this.fail(abortError());
    else this.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The buffer the socket's next read goes into. */
  private nextBuffer(): Buffer {
    this.region = undefined;
    if (this.phase === 'head') return this.headLen < SCRATCH_BYTES ? this.scratch.subarray(this.headLen) : this.scratch;
    if (this.phase !== 'body' || !this.body || this.framing.kind === 'chunked') return this.scratch;
    const max = Math.min(this.framing.kind === 'length' ? this.framing.left : Infinity, this.body.limit - this.body.got);
    if (max <= 0) return this.scratch;
    this.region = this.body.sink.space(max);
    return this.region ?? this.scratch;
  }

  /** A read landed in `buf`: returns false to stop reading. Never throws (it runs inside the socket's read). */
  private onRead(n: number, buf: Uint8Array): boolean {
    try {
      if (this.phase === 'head') return this.onHeadBytes(n);
      if (this.phase !== 'body' || !this.body) return false;
      const b = this.body;
      let room: boolean;
      if (this.region !== undefined && buf === this.region) {
        b.got += n;
        if (this.framing.kind === 'length') this.framing.left -= n;
        room = b.sink.commit(n);
      } else {
        room = this.feed(this.scratch.subarray(0, n));
      }
      b.onBytes();
      if (this.phase === 'body' && this.framing.kind === 'length' && this.framing.left === 0) this.finish();
      if (this.phase !== 'body') return false;
      if (!room) this.waitForRoom(b.sink);
      return room;
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return false;
    }
  }

  private onHeadBytes(n: number): boolean {
    let from = Math.max(0, this.headLen - 3);
    this.headLen += n;
    for (;;) {
      const view = this.scratch.subarray(0, this.headLen);
      let end = view.indexOf('\r\n\r\n', from, 'latin1');
      let sep = 4;
      if (end === -1) {
        end = view.indexOf('\n\n', from, 'latin1');
        sep = 2;
      }
      if (end === -1) {
        if (this.headLen >= SCRATCH_BYTES) throw new PgwError('PGW_E_OTA_DOWNLOAD', `the response head is larger than ${SCRATCH_BYTES} bytes`);
        return true;
      }
      const parsed = parseResponseHead(view.toString('latin1', 0, end));
      const rest = view.subarray(end + sep);
      if (parsed.status < 200) {
        // An interim response (100 Continue, 103 Early Hints): the final one follows.
        rest.copy(this.scratch, 0);
        this.headLen = rest.length;
        from = 0;
        continue;
      }
      const coding = parsed.headers['content-encoding'];
      if (coding !== undefined && coding.toLowerCase() !== 'identity') throw new PgwError('PGW_E_OTA_DOWNLOAD', `the server applied Content-Encoding ${coding}`);
      this.framing = framingOf(parsed);
      this.early = rest.length > 0 ? Buffer.from(rest) : undefined;
      this.moveTo('held');
      const framing = this.framing;
      this.resolveHead({
        status: parsed.status,
        headers: parsed.headers,
        contentLength: framing.kind === 'length' ? framing.left : undefined,
        readBody: (sink, limit, onBytes) => this.readBody(sink, limit, onBytes),
        close: () => this.fail(new Error('closed by the caller')),
      });
      // Nothing more is read until the caller asks for the body.
      return false;
    }
  }

  private readBody(sink: BodySink, limit: number, onBytes: () => void): Promise<void> {
    if (this.phase !== 'held') return Promise.reject(this.failure ?? new Error('the body was already read'));
    return new Promise<void>((resolve, reject) => {
      this.body = { sink, limit, got: 0, onBytes, resolve, reject };
      this.moveTo('body');
      try {
        let room = true;
        if (this.framing.kind === 'none') {
          this.finish();
          return;
        }
        if (this.early) room = this.feed(this.early);
        this.early = undefined;
        if (this.phase !== 'body') return;
        if (this.framing.kind === 'length' && this.framing.left === 0) {
          this.finish();
          return;
        }
        if (this.closed) {
          this.onClose();
          return;
        }
        if (room) this.socket.resume();
        else this.waitForRoom(sink);
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Bytes outside a sink region (scratch or early): through the chunked decoder if any, then copied. */
  private feed(data: Buffer): boolean {
    const f = this.framing;
    if (f.kind === 'chunked') {
      let room = true;
      f.decoder.feed(data, (piece) => {
        room = this.accept(piece) && room;
      });
      if (f.decoder.done) this.finish();
      return room;
    }
    // Bytes past Content-Length are not part of this response (and Connection: close ends it).
    const part = f.kind === 'length' ? data.subarray(0, f.left) : data;
    if (f.kind === 'length') f.left -= part.length;
    return this.accept(part);
  }

  private accept(piece: Buffer): boolean {
    const b = this.body!;
    if (piece.length === 0) return true;
    if (b.got + piece.length > b.limit) {
      const fits = piece.subarray(0, b.limit - b.got);
      if (fits.length > 0) b.sink.push(fits);
      b.got += fits.length;
      throw new BodyTooLongError(b.limit);
    }
    b.got += piece.length;
    return b.sink.push(piece);
  }

  private waitForRoom(sink: BodySink): void {
    sink.drained().then(
      () => {
        if (this.phase === 'body' && !this.closed) this.socket.resume();
      },
      (e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))),
    );
  }

  private onClose(): void {
    this.closed = true;
    if (this.phase === 'head') this.fail(new Error('the connection closed before the response head'));
    else if (this.phase === 'body') {
      // §6.3 rule 8: without Content-Length or chunked framing, the body ends with the connection.
      if (this.framing.kind === 'close') this.finish();
      else this.fail(new Error('the connection closed early'));
    }
    // 'held': readBody() handles it; 'done': nothing to do.
  }

  /** The one place the phase changes: an illegal move is a bug here, not a server's fault. */
  private moveTo(next: Phase): void {
    if (!PHASE_MOVES[this.phase].includes(next)) throw new Error(`internal: connection phase ${this.phase} → ${next}`);
    this.phase = next;
  }

  private finish(): void {
    if (this.phase === 'done') return;
    this.moveTo('done');
    this.signal.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
    this.body?.resolve();
  }

  private fail(e: Error): void {
    if (this.phase === 'done') return;
    this.failure ??= e;
    this.moveTo('done');
    this.signal.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
    this.rejectHead(this.failure);
    this.body?.reject(this.failure);
  }
}

function abortError(): Error {
  const e = new Error('the request was aborted');
  e.name = 'AbortError';
  return e;
}
