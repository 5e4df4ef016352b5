/**
 * The media worker's logger: each record the main logger would write is
 * posted to the main thread, which writes it with its own logger, so the
 * log stays one JSON-lines stream with one writer.
 */
import type { Logger, LogLevel } from '../../../util/logger.js';
import type { FromWorker } from './protocol.js';

type Level = Exclude<LogLevel, 'silent' | 'fatal'>;

export function postingLogger(post: (m: FromWorker) => void, enabled: readonly LogLevel[], bindings: Record<string, unknown> = {}): Logger {
  const on = new Set(enabled);
  const emit =
    (level: Level) =>
    (obj: object | string, msg?: string): void => {
      if (!on.has(level)) return;
      const record = typeof obj === 'string' ? { ...bindings, msg: obj } : { ...bindings, ...obj };
      try {
        post({ ev: 'log', level, obj: record, msg: typeof obj === 'string' ? undefined : msg });
      } catch {
        // Something in the record cannot be cloned: send it as text rather than lose the line.
        post({ ev: 'log', level, obj: { ...bindings, detail: String(JSON.stringify(obj)) }, msg });
      }
    };
  return {
    trace: emit('trace'),
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    // The main thread logs under its media component; other bindings are kept.
    child: ({ component: _component, ...more }) => postingLogger(post, enabled, { ...bindings, ...more }),
    isLevelEnabled: (level) => on.has(level),
  };
}
