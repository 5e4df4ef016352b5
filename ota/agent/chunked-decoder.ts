/**
 * HTTP/1.1 chunked transfer coding (RFC 9112 §7.1), decoded incrementally:
 * bytes go in as they arrive, the chunk data comes out as subarrays of the
 * input (no copy), and `done` turns true after the last chunk and the
 * trailer section. Chunk extensions and trailer fields are read and
 * ignored (§7.1.1, §7.1.2: a recipient may ignore them).
 *
 * Update servers answer a GET for a static file with Content-Length; this
 * is for the ones that stream the file through an application instead, so
 * they keep working with the download's own HTTP client (direct-get.ts).
 *
 *   size ──CRLF──> data(n) ──CRLF──> size ...
 *     └─ n = 0 ──> trailer lines ──empty line──> done
 */

/** A size or trailer line longer than this is refused (no legitimate one comes close). */
const MAX_LINE = 4096;

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

export class ChunkedDecoder {
  private state: State = 'size';
  private line = '';
  private left = 0;

  get done(): boolean {
    return this.state === 'done';
  }

  /**
   * Feeds `input`; calls `onData` with each piece of chunk data, in order.
   * Returns how many bytes of `input` were used (less than its length only
   * once done: the rest is not part of this message). Throws on bad framing.
   */
  feed(input: Buffer, onData: (data: Buffer) => void): number {
    let i = 0;
    while (i < input.length && this.state !== 'done') {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.left, input.length - i);
          onData(input.subarray(i, i + n));
          i += n;
          this.left -= n;
          if (this.left === 0) this.state = 'data-crlf';
          break;
        }
        case 'size':
        case 'data-crlf':
        case 'trailer': {
          const nl = input.indexOf(0x0a, i);
          const end = nl === -1 ? input.length : nl;
          this.line += input.toString('latin1', i, end);
          if (this.line.length > MAX_LINE) throw new Error('a chunked-encoding line is too long');
          i = end;
          if (nl === -1) break;
          i = nl + 1;
          const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
          this.line = '';
          this.endOfLine(line);
          break;
        }
        default: {
          const never: never = this.state;
          throw new Error(`unknown state ${String(never)}`);
        }
      }
    }
    return i;
  }

  private endOfLine(line: string): void {
    switch (this.state) {
      case 'size': {
        // chunk-size [ chunk-ext ]: hex digits, then optionally ";ext" (ignored).
        const m = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line);
        if (!m) throw new Error(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
        this.left = parseInt(m[1]!, 16);
        this.state = this.left === 0 ? 'trailer' : 'data';
        return;
      }
      case 'data-crlf':
        if (line !== '') throw new Error('chunk data is not followed by CRLF');
        this.state = 'size';
        return;
      case 'trailer':
        if (line === '') this.state = 'done';
        return;
      case 'data':
      case 'done':
        throw new Error(`no line is expected in state ${this.state}`);
      default: {
        const never: never = this.state;
        throw new Error(`unknown state ${String(never)}`);
      }
    }
  }
}
