/**
 * A line-oriented serial link: the one thing every serial device driver here
 * needs (front panel, PoE controller and modem all speak text lines). Drivers
 * and simulators take a LineLink, so the same driver runs over a real UART,
 * over a pseudo-terminal to a simulator, or over an in-memory pair in unit tests.
 */
export interface LineLink {
  /** Write one line; the link appends its line terminator. */
  writeLine(line: string): Promise<void>;
  /** Every complete line received, without its terminator; empty lines are dropped. */
  onLine(listener: (line: string) => void): () => void;
  /** The link closed (by us, or because the device went away). */
  onClose(listener: (error?: Error) => void): () => void;
  readonly isOpen: boolean;
  close(): Promise<void>;
}

/** Line terminator a link writes. AT modems want CR (V.250 §5.2.1); our own protocols take LF or CRLF. */
export type LineEnding = '\r' | '\n' | '\r\n';

export type Listener<T extends unknown[]> = (...args: T) => void;

/** A tiny typed listener set (no EventEmitter string typing games). */
export class Listeners<T extends unknown[]> {
  private readonly set = new Set<Listener<T>>();
  add(listener: Listener<T>): () => void {
    this.set.add(listener);
    return () => {
      this.set.delete(listener);
    };
  }
  emit(...args: T): void {
    for (const l of [...this.set]) l(...args);
  }
  get size(): number {
    return this.set.size;
  }
}
