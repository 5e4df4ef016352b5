/**
 * `pgw run --config FILE [--data DIR] [--log-level LEVEL]`.
 *
 *   validate FILE ──invalid──▶ problems on stderr, exit 1
 *        │
 *   runGateway ──throws──▶ exit 1 (config) or 3 (anything else)
 *        │
 *   running ──SIGTERM/SIGINT──▶ stop() ──done──▶ exit 0
 *        │                        │──throws / 5 s deadline / second signal──▶ exit 3
 *        └──uncaught exception──▶ stop() as above, then exit 3
 *
 * CONTRACT.md: on SIGTERM stop accepting new calls and end within 5 s,
 * nothing in the store lost; stop() does the work, this enforces the
 * deadline. An unhandled promise rejection is logged and the gateway keeps
 * running: one stray promise must not drop every call in the building.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadGatewayFile } from '../config/load.js';
import type { LogLevel } from '../util/logger.js';
import type { RunningGateway } from '../gateway.js';
import type { CliContext } from './context.js';
import { LOG_LEVELS } from './commands.js';
import { EXIT } from './exit-codes.js';
import { reportConfigError } from './print-problems.js';
import { usageError } from './usage-error.js';

/** CONTRACT.md: the process ends within 5 s of SIGTERM. */
export const STOP_DEADLINE_MS = 5000;

export const DEFAULT_DATA_DIR = './var';

/** pino serialises an Error under `err` with its type, message, stack and own fields (code, context). */
function errorFields(e: unknown): Record<string, unknown> {
  return { err: e instanceof Error ? e : String(e) };
}

export async function cmdRun(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, data: { type: 'string' }, 'log-level': { type: 'string' } },
    allowPositionals: false,
    strict: true,
  });
  if (values.config === undefined) throw usageError('run needs --config FILE');
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const configFile = resolve(values.config);
  const dataDir = resolve(values.data ?? DEFAULT_DATA_DIR);

  // Validate first: an installer gets `path: message` lines, not a JSON log.
  try {
    await loadGatewayFile(configFile);
  } catch (e) {
    const code = reportConfigError(e, ctx, 'run', ctx.err);
    if (code !== undefined) return code;
    throw e;
  }

  const root = ctx.createLogger(level);
  const logger = root.child({ component: 'cli' });
  let gateway: RunningGateway;
  try {
    gateway = await ctx.runGateway({ configFile, dataDir, logger: root });
  } catch (e) {
    const code = reportConfigError(e, ctx, 'run', ctx.err);
    if (code !== undefined) return code;
    logger.error({ ...errorFields(e) }, 'the gateway failed to start');
    return EXIT.FAILURE;
  }
  logger.info({ configFile, dataDir }, 'gateway running');

  return new Promise<number>((done) => {
    let stopping = false;
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      offSignal();
      offError();
      done(code);
    };
    const stop = (reason: Record<string, unknown>, codeWhenStopped: number): void => {
      if (stopping) {
        logger.warn(reason, 'asked again while stopping: exiting now');
        finish(EXIT.FAILURE);
        return;
      }
      stopping = true;
      logger.info(reason, 'stopping');
      const deadline = ctx.clock.setTimer(STOP_DEADLINE_MS, () => {
        logger.error({ deadlineMs: STOP_DEADLINE_MS }, 'the gateway did not stop in time: exiting');
        finish(EXIT.FAILURE);
      });
      gateway.stop().then(
        () => {
          deadline.cancel();
          logger.info({}, 'stopped');
          finish(codeWhenStopped);
        },
        (e: unknown) => {
          deadline.cancel();
          logger.error({ ...errorFields(e) }, 'the gateway failed to stop cleanly');
          finish(EXIT.FAILURE);
        },
      );
    };
    const offSignal = ctx.onSignal(['SIGTERM', 'SIGINT'], (signal) => stop({ signal }, EXIT.OK));
    const offError = ctx.onProcessError((kind, error) => {
      if (kind === 'unhandledRejection') {
        logger.error({ ...errorFields(error) }, 'unhandled promise rejection (the gateway keeps running)');
        return;
      }
      logger.error({ ...errorFields(error) }, 'uncaught exception');
      stop({ reason: 'uncaughtException' }, EXIT.FAILURE);
    });
  });
}
