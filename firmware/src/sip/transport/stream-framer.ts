/**
 * Message framing on stream transports (TCP, TLS): RFC 3261 §18.3.
 *
 * On a stream the only message boundary is the header/body separator plus the
 * Content-Length, so every message on a stream MUST carry Content-Length
 * (§18.3, §20.14); a message without it cannot be framed and the connection is
 * closed. Between messages, CRLFs are keep-alives (RFC 5626 §3.5.1): a
 * double CRLF is a "ping", answered by the connection with a single CRLF
 * "pong"; a lone CRLF (a pong, or stray line ends after a body) is skipped.
 *
 * The framer only slices bytes; parsing happens above it. It caps the header
 * block and the body so that a peer cannot make us buffer without limit.
 *
 *   boundary ──CRLFCRLF──> ping (emit, stay at boundary)
 *   boundary ──CRLF x────> skip, stay at boundary
 *   boundary ──other─────> headers ──CRLFCRLF + Content-Length──> body ──n bytes──> message, boundary
 *                                    └─ no Content-Length / too big ──> error (the stream is dead)
 */

export type FramerEvent =
  | { type: 'message'; data: Buffer }
  | { type: 'ping' }
  | { type: 'error'; reason: string; /** The header block when it was complete (for a 400). */ head?: Buffer };

export interface StreamFramerOptions {
  /** Largest header block (start line + headers + blank line). Default 64 KiB. */
  maxHeaderBytes?: number;
  /** Largest Content-Length accepted. Default 1 MiB. */
  maxBodyBytes?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const HEADER_END = Buffer.from('\r\n\r\n');
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export class StreamFramer {
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;
  /** Bytes received and not yet emitted. */
  private buf: Buffer = Buffer.alloc(0);
  /** How far the header-end search has already looked in buf (resume point). */
  private scanned = 0;
  /** Total length of the message being received, once its headers are known. */
  private need = -1;
  /** Body chunks collected while waiting for `need` bytes (avoids re-concatenating). */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private dead = false;

  constructor(options: StreamFramerOptions = {}) {
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** True after an error: the stream cannot be re-synchronised and must be closed. */
  get failed(): boolean {
    return this.dead;
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.buf.length + this.chunkBytes;
  }

  /** Feed bytes as they arrive; returns what they completed, in order. */
  push(chunk: Buffer): FramerEvent[] {
    const out: FramerEvent[] = [];
    if (this.dead || chunk.length === 0) return out;
    if (this.need >= 0) {
      // Waiting for a body: collect without copying until enough has arrived.
      this.chunks.push(chunk);
      this.chunkBytes += chunk.length;
      if (this.buf.length + this.chunkBytes < this.need) return out;
      this.buf = Buffer.concat([this.buf, ...this.chunks]);
      this.chunks = [];
      this.chunkBytes = 0;
    } else {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    }
    this.drain(out);
    return out;
  }

  private drain(out: FramerEvent[]): void {
    for (;;) {
      if (this.need >= 0) {
        if (this.buf.length < this.need) return;
        // Copy, so that the emitted message does not pin the whole read buffer.
        out.push({ type: 'message', data: Buffer.from(this.buf.subarray(0, this.need)) });
        this.buf = this.buf.subarray(this.need);
        this.need = -1;
        this.scanned = 0;
        continue;
      }
      if (!this.skipKeepAlives(out)) return;
      if (this.buf.length === 0) return;
      const end = this.buf.indexOf(HEADER_END, Math.max(0, this.scanned - 3));
      if (end < 0) {
        this.scanned = this.buf.length;
        if (this.buf.length > this.maxHeaderBytes) this.fail(out, `header block larger than ${this.maxHeaderBytes} bytes`);
        return;
      }
      const headLength = end + HEADER_END.length;
      if (headLength > this.maxHeaderBytes) {
        this.fail(out, `header block larger than ${this.maxHeaderBytes} bytes`);
        return;
      }
      const head = this.buf.subarray(0, headLength);
      const length = contentLength(head);
      if (typeof length === 'string') {
        this.fail(out, length, Buffer.from(head));
        return;
      }
      if (length > this.maxBodyBytes) {
        this.fail(out, `Content-Length ${length} larger than ${this.maxBodyBytes} bytes`, Buffer.from(head));
        return;
      }
      this.need = headLength + length;
    }
  }

  /**
   * At a message boundary: answer double-CRLF pings and drop stray line ends.
   * Returns false when it must wait for more bytes to decide.
   */
  private skipKeepAlives(out: FramerEvent[]): boolean {
    for (;;) {
      const b = this.buf;
      if (b.length === 0) return true;
      if (b[0] === LF) {
        // A bare LF between messages: tolerated as a stray line end.
        this.buf = b.subarray(1);
        continue;
      }
      if (b[0] !== CR) return true;
      if (b.length < 2) return false;
      if (b[1] !== LF) return true; // a lone CR starts no message: let header parsing reject it
      if (b.length >= 4 && b[2] === CR && b[3] === LF) {
        out.push({ type: 'ping' });
        this.buf = b.subarray(4);
        continue;
      }
      // One CRLF: it is a stray (or a pong) once we see what follows; a CR
      // after it may be the second half of a ping split across segments.
      if (b.length === 2 || (b.length === 3 && b[2] === CR)) return false;
      this.buf = b.subarray(2);
    }
  }

  private fail(out: FramerEvent[], reason: string, head?: Buffer): void {
    this.dead = true;
    this.buf = Buffer.alloc(0);
    this.chunks = [];
    this.chunkBytes = 0;
    out.push(head ? { type: 'error', reason, head } : { type: 'error', reason });
  }
}

/**
 * The Content-Length of a header block (long or compact form `l`, RFC 3261
 * §7.3.3), or a string saying why there is none. Folded continuation lines
 * are not a concern: Content-Length is a bare number.
 */
export function contentLength(head: Buffer): number | string {
  const text = head.toString('latin1');
  const lines = text.split(/\r?\n/);
  let found: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name !== 'content-length' && name !== 'l') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,10}$/.test(value)) return `invalid Content-Length "${value.slice(0, 40)}"`;
    const n = Number(value);
    if (found !== undefined && found !== n) return 'conflicting Content-Length values';
    found = n;
  }
  if (found === undefined) return 'missing Content-Length on a stream transport';
  return found;
}
