/** A Logger that records lines in memory, for assertions on what was logged. */
import type { LogLevel, Logger } from '../../../../firmware/src/util/logger.js';

export interface LogLine {
  level: LogLevel;
  fields: Record<string, unknown>;
  msg: string;
}

const ORDER: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function captureLogger(level: LogLevel = 'debug'): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const enabled = (l: LogLevel): boolean => ORDER.indexOf(l) >= ORDER.indexOf(level) && level !== 'silent';
  const at =
    (l: LogLevel) =>
    (o: object | string, m?: string): void => {
      if (!enabled(l)) return;
      if (typeof o === 'string') lines.push({ level: l, fields: {}, msg: o });
      else lines.push({ level: l, fields: o as Record<string, unknown>, msg: m ?? '' });
    };
  const logger: Logger & { lines: LogLine[] } = {
    lines,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
    isLevelEnabled: enabled,
  };
  return logger;
}
