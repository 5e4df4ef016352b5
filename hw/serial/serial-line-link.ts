/**
 * LineLink over a real serial port (`serialport`). A pseudo-terminal made by
 * socat looks the same to it, which is how the tests drive this driver against
 * the simulators.
 */
import { SerialPort } from 'serialport';
import { PgwError } from '../../firmware/src/util/errors.js';
import { LineSplitter } from './line-splitter.js';
import { Listeners } from './line-link.js';
import type { LineEnding, LineLink } from './line-link.js';

export interface SerialLinkOptions {
  path: string;
  baudRate: number;
  lineEnding: LineEnding;
}

export async function openSerialLineLink(options: SerialLinkOptions): Promise<LineLink> {
  const port = new SerialPort({ path: options.path, baudRate: options.baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (err) reject(new PgwError('PGW_E_HW_IO', `cannot open serial port ${options.path}: ${err.message}`, { cause: err, context: { path: options.path } }));
      else resolve();
    });
  });
  return new SerialLineLink(port, options);
}

class SerialLineLink implements LineLink {
  private readonly splitter = new LineSplitter();
  private readonly lines = new Listeners<[string]>();
  private readonly closes = new Listeners<[Error | undefined]>();
  private closed = false;

  constructor(
    private readonly port: SerialPort,
    private readonly options: SerialLinkOptions,
  ) {
    port.on('data', (chunk: Buffer) => {
      // latin1: a byte is a character, so a garbled byte cannot swallow its neighbours.
      for (const line of this.splitter.push(chunk.toString('latin1'))) this.lines.emit(line);
    });
    port.on('close', (err?: Error | null) => this.markClosed(err ?? undefined));
    port.on('error', (err: Error) => this.markClosed(err));
  }

  get isOpen(): boolean {
    return !this.closed && this.port.isOpen;
  }

  writeLine(line: string): Promise<void> {
    if (!this.isOpen) return Promise.reject(new PgwError('PGW_E_HW_IO', `serial port ${this.options.path} is closed`));
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(line + this.options.lineEnding, 'latin1'), (err) => {
        if (err) reject(new PgwError('PGW_E_HW_IO', `write to ${this.options.path} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  onLine(listener: (line: string) => void): () => void {
    return this.lines.add(listener);
  }

  onClose(listener: (error?: Error) => void): () => void {
    return this.closes.add(listener);
  }

  close(): Promise<void> {
    if (!this.port.isOpen) {
      this.markClosed(undefined);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.port.close(() => {
        this.markClosed(undefined);
        resolve();
      });
    });
  }

  private markClosed(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closes.emit(err);
  }
}
