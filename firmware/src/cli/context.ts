/**
 * Everything a command touches outside itself, injected so the commands
 * run in-process under test (fake gateway, fake signals, fake clock) and
 * for real from main.ts.
 */
import type { Clock } from '../util/clock.js';
import type { Logger, LogLevel } from '../util/logger.js';
import type { GatewayOptions, RunningGateway } from '../gateway.js';

export interface CliContext {
  /** Writes to stdout (text includes its newlines). */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  runGateway(options: GatewayOptions): Promise<RunningGateway>;
  createLogger(level: LogLevel): Logger;
  /** Subscribes to process signals; returns the unsubscribe. */
  onSignal(signals: readonly NodeJS.Signals[], fn: (signal: NodeJS.Signals) => void): () => void;
  /** Subscribes to uncaught exceptions and unhandled rejections; returns the unsubscribe. */
  onProcessError(fn: (kind: 'uncaughtException' | 'unhandledRejection', error: unknown) => void): () => void;
  /** Timers of this clock must keep the process alive (the stop deadline runs on it). */
  clock: Clock;
}
