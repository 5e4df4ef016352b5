/**
 * Request/response over a LineLink, for devices that answer each command with
 * zero or more data lines and one final line (OK / ERROR), and that also send
 * unsolicited lines at any time: AT modems (V.250 §5.7, URCs in 3GPP TS
 * 27.007 §8) and our own panel and PoE protocols (docs/HARDWARE.md). One
 * command is in flight at a time (V.250 §5.2: a DCE handles one command
 * line at a time); the rest queue. Timeouts run on the injected Clock.
 */
import type { Clock, TimerHandle } from '../../firmware/src/util/clock.js';
import { PgwError } from '../../firmware/src/util/errors.js';
import type { LineLink } from './line-link.js';
import { Listeners } from './line-link.js';

export type FinalResult = { ok: true } | { ok: false; error: string };

export interface PendingCommand {
  command: string;
  /** Prefix of the data lines this command answers with, e.g. `+CSQ:`. */
  expect?: string;
}

/** How one device family frames its answers. */
export interface ChannelDialect {
  /** The final result this line is, or null when it is not a final line. */
  final(line: string): FinalResult | null;
  /** Whether a line that is not final is unsolicited (a URC / event) rather than part of the answer. */
  isUnsolicited(line: string, pending: PendingCommand | undefined): boolean;
}

export interface SendOptions {
  timeoutMs?: number;
  expect?: string;
}

interface QueuedCommand extends PendingCommand {
  timeoutMs: number;
  resolve: (lines: string[]) => void;
  reject: (error: PgwError) => void;
}

export interface CommandChannelOptions {
  link: LineLink;
  clock: Clock;
  dialect: ChannelDialect;
  defaultTimeoutMs: number;
  /** Names the device in errors and logs, e.g. `modem`. */
  device: string;
}

export class CommandChannel {
  private readonly queue: QueuedCommand[] = [];
  private current: (QueuedCommand & { lines: string[]; timer: TimerHandle }) | undefined;
  private readonly unsolicited = new Listeners<[string]>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly options: CommandChannelOptions) {
    this.unsubscribe.push(options.link.onLine((line) => this.onLine(line)));
    this.unsubscribe.push(
      options.link.onClose(() => {
        const error = new PgwError('PGW_E_HW_IO', `${options.device}: link closed`);
        this.failAll(error);
      }),
    );
  }

  /** Unsolicited lines (URCs, `EVT ...`). */
  onUnsolicited(listener: (line: string) => void): () => void {
    return this.unsolicited.add(listener);
  }

  /** Send one command line; resolves with its data lines, rejects with PGW_E_HW_PROTOCOL / _TIMEOUT / _IO. */
  send(command: string, options: SendOptions = {}): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        command,
        timeoutMs: options.timeoutMs ?? this.options.defaultTimeoutMs,
        resolve,
        reject,
        ...(options.expect !== undefined ? { expect: options.expect } : {}),
      });
      this.pump();
    });
  }

  /** Commands waiting, including the one in flight. */
  get depth(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** Stop listening; pending commands fail. The link itself is the caller's to close. */
  dispose(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.failAll(new PgwError('PGW_E_HW_IO', `${this.options.device}: channel disposed`));
  }

  private pump(): void {
    if (this.current) return;
    const next = this.queue.shift();
    if (!next) return;
    const timer = this.options.clock.setTimer(next.timeoutMs, () => {
      if (this.current?.timer !== timer) return;
      this.current = undefined;
      next.reject(
        new PgwError('PGW_E_HW_TIMEOUT', `${this.options.device}: no answer to ${next.command} within ${next.timeoutMs} ms`, {
          context: { device: this.options.device, command: next.command },
        }),
      );
      this.pump();
    });
    this.current = { ...next, lines: [], timer };
    this.options.link.writeLine(next.command).catch((err: unknown) => {
      if (this.current?.timer !== timer) return;
      timer.cancel();
      this.current = undefined;
      next.reject(err instanceof PgwError ? err : new PgwError('PGW_E_HW_IO', `${this.options.device}: write failed`, { cause: err }));
      this.pump();
    });
  }

  private onLine(line: string): void {
    const cur = this.current;
    if (!cur) {
      this.unsolicited.emit(line);
      return;
    }
    // Command echo (V.250 §6.2.4, ATE1): a modem that has not had ATE0 yet repeats the command.
    if (line === cur.command) return;
    const final = this.options.dialect.final(line);
    if (final) {
      cur.timer.cancel();
      this.current = undefined;
      if (final.ok) cur.resolve(cur.lines);
      else
        cur.reject(
          new PgwError('PGW_E_HW_PROTOCOL', `${this.options.device}: ${cur.command} failed: ${final.error}`, {
            context: { device: this.options.device, command: cur.command, error: final.error },
          }),
        );
      this.pump();
      return;
    }
    if (this.options.dialect.isUnsolicited(line, cur)) this.unsolicited.emit(line);
    else cur.lines.push(line);
  }

  private failAll(error: PgwError): void {
    const cur = this.current;
    this.current = undefined;
    if (cur) {
      cur.timer.cancel();
      cur.reject(error);
    }
    for (const q of this.queue.splice(0)) q.reject(error);
  }
}

/**
 * The dialect of our own line protocols (panel, PoE; docs/HARDWARE.md):
 * `OK` or `ERR <reason>` ends an answer, `EVT ...` lines are events.
 */
export const LINE_PROTOCOL_DIALECT: ChannelDialect = {
  final(line) {
    if (line === 'OK') return { ok: true };
    if (line === 'ERR' || line.startsWith('ERR ')) return { ok: false, error: line.slice(4) || 'ERR' };
    return null;
  },
  isUnsolicited(line) {
    return line.startsWith('EVT ');
  },
};
