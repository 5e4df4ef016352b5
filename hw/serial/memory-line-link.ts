/**
 * Two LineLinks joined back to back in memory, for unit tests that run a
 * driver against its simulator without a pseudo-terminal. Delivery is
 * asynchronous (a microtask), as it is on a real port, so a driver cannot
 * depend on an answer arriving inside its own write call.
 */
import { PgwError } from '../../firmware/src/util/errors.js';
import { Listeners } from './line-link.js';
import { LineSplitter } from './line-splitter.js';
import type { LineLink } from './line-link.js';

class MemoryEnd implements LineLink {
  peer!: MemoryEnd;
  readonly lines = new Listeners<[string]>();
  readonly closes = new Listeners<[Error | undefined]>();
  open = true;
  readonly splitter = new LineSplitter();

  get isOpen(): boolean {
    return this.open;
  }
  writeLine(line: string): Promise<void> {
    if (!this.open) return Promise.reject(new PgwError('PGW_E_HW_IO', 'memory link is closed'));
    const peer = this.peer;
    // Framed and split like bytes on a wire, so "\r\nOK" arrives as the line "OK".
    queueMicrotask(() => {
      if (!peer.open) return;
      for (const l of peer.splitter.push(line + '\n')) peer.lines.emit(l);
    });
    return Promise.resolve();
  }
  onLine(listener: (line: string) => void): () => void {
    return this.lines.add(listener);
  }
  onClose(listener: (error?: Error) => void): () => void {
    return this.closes.add(listener);
  }
  close(): Promise<void> {
    for (const end of [this as MemoryEnd, this.peer]) {
      if (end.open) {
        end.open = false;
        end.closes.emit(undefined);
      }
    }
    return Promise.resolve();
  }
}

export function createMemoryLinkPair(): [LineLink, LineLink] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
