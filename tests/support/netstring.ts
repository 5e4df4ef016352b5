/**
 * Netstrings (D. J. Bernstein, http://cr.yp.to/proto/netstrings.txt):
 * `<decimal byte length>:<bytes>,`. baresip's ctrl_tcp module frames every
 * command, response and event this way, and a single TCP read can carry
 * several of them or a fraction of one, so the decoder buffers.
 */

/** Frames one message. The length counts bytes, not characters. */
export function encodeNetstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body, Buffer.from(',', 'ascii')]);
}

/** Incremental decoder: push() bytes as they arrive, get back every complete message. */
export class NetstringDecoder {
  private buf: Buffer = Buffer.alloc(0);

  /** @param maxLength reject absurd lengths rather than buffering forever (default 1 MiB). */
  constructor(private readonly maxLength = 1 << 20) {}

  /** Returns the complete payloads now available; throws on a framing error (the stream is then unusable). */
  push(chunk: Buffer): string[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const colon = this.buf.indexOf(0x3a); // ':'
      if (colon < 0) {
        if (this.buf.length > 10) throw new Error('netstring: length prefix too long');
        if (this.buf.length > 0 && !/^\d+$/.test(this.buf.toString('ascii'))) throw new Error('netstring: bad length prefix');
        break;
      }
      const lenText = this.buf.toString('ascii', 0, colon);
      if (!/^\d+$/.test(lenText)) throw new Error(`netstring: bad length prefix '${lenText.slice(0, 20)}'`);
      const len = Number(lenText);
      if (len > this.maxLength) throw new Error(`netstring: length ${len} exceeds ${this.maxLength}`);
      const end = colon + 1 + len;
      if (this.buf.length < end + 1) break;
      if (this.buf[end] !== 0x2c) throw new Error('netstring: missing trailing comma'); // ','
      out.push(this.buf.toString('utf8', colon + 1, end));
      this.buf = this.buf.subarray(end + 1);
    }
    return out;
  }
}
