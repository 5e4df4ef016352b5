/**
 * The `pgw` executable (tsup entry → dist/cli.js). Builds the real
 * CliContext around the process and exits with the command's code.
 */
import { runGateway } from '../gateway.js';
import type { Clock } from '../util/clock.js';
import { createLogger } from '../util/logger.js';
import type { CliContext } from './context.js';
import { runCli } from './run-cli.js';

// SystemClock's timers are unref'd (a pending protocol timer must not keep a
// stopping process alive); the stop deadline must, or a stop() that hangs
// with nothing else pending would let the process end before the deadline.
const processClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

const context: CliContext = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  runGateway,
  createLogger: (level) => createLogger({ level }),
  onSignal: (signals, fn) => {
    for (const s of signals) process.on(s, fn);
    return () => {
      for (const s of signals) process.off(s, fn);
    };
  },
  onProcessError: (fn) => {
    const onException = (e: unknown): void => fn('uncaughtException', e);
    const onRejection = (e: unknown): void => fn('unhandledRejection', e);
    process.on('uncaughtException', onException);
    process.on('unhandledRejection', onRejection);
    return () => {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    };
  },
  clock: processClock,
};

const isRun = process.argv[2] === 'run';
runCli(process.argv.slice(2), context).then(
  (code) => {
    // `run` may leave handles behind a gateway that failed to stop: end for sure.
    if (isRun) process.exit(code);
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`pgw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(3);
  },
);
