/**
 * JSON-lines logging (CONTRACT.md: one object per line on stdout with level,
 * time, msg, component). pino is used because it is the fastest well-kept
 * JSON logger for Node and its child loggers carry the component for free.
 */
import pino from 'pino';
import type { Logger as PinoLogger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface Logger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: { component: string } & Record<string, unknown>): Logger;
  isLevelEnabled(level: LogLevel): boolean;
}

export function createLogger(options: { level?: LogLevel; destination?: NodeJS.WritableStream } = {}): Logger {
  const p = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return wrap(p, p.child({ component: 'pgw' }));
}

/**
 * Children are made from the root so that each line carries exactly one
 * `component` (pino would repeat the key if children were nested).
 */
function wrap(root: PinoLogger, self: PinoLogger): Logger {
  return {
    trace: (o, m) => self.trace(o as object, m),
    debug: (o, m) => self.debug(o as object, m),
    info: (o, m) => self.info(o as object, m),
    warn: (o, m) => self.warn(o as object, m),
    error: (o, m) => self.error(o as object, m),
    child: (bindings) => wrap(root, root.child(bindings)),
    isLevelEnabled: (level) => self.isLevelEnabled(level),
  };
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent' });
}
