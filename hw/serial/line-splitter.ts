/**
 * Splits a byte stream into lines on CR, LF or CRLF. AT modems frame
 * responses as <CR><LF>text<CR><LF> (3GPP TS 27.007 §4.1, V.250), so blank
 * lines between frames are normal and dropped. A partial line waits for the
 * next chunk; an over-long line (a babbling or mis-bauded device) is cut so a
 * bad device cannot grow memory without bound.
 */
export class LineSplitter {
  private partial = '';

  constructor(private readonly maxLineLength = 4096) {}

  /** Feed a chunk; returns the complete non-empty lines it finished. */
  push(chunk: string): string[] {
    const out: string[] = [];
    let text = this.partial + chunk;
    for (;;) {
      const i = text.search(/[\r\n]/);
      if (i < 0) break;
      const line = text.slice(0, i);
      text = text.slice(i + 1);
      if (line.length > 0) out.push(line);
    }
    if (text.length > this.maxLineLength) {
      out.push(text.slice(0, this.maxLineLength));
      text = '';
    }
    this.partial = text;
    return out;
  }

  /** What is buffered and not yet terminated. */
  pending(): string {
    return this.partial;
  }
}
