/**
 * The `pgw` dispatcher: picks the command, runs it, maps errors to exit
 * codes (exit-codes.ts). Usage errors print the message and the usage on
 * stderr and exit 2.
 */
import { configJsonSchemaText } from '../config/json-schema.js';
import { isPgwError } from '../util/errors.js';
import { cmdApi } from './cmd-api.js';
import { cmdCheckConfig } from './cmd-check-config.js';
import { cmdDevConfig } from './cmd-dev-config.js';
import { cmdFactoryReset } from './cmd-factory-reset.js';
import { cmdRun } from './cmd-run.js';
import { COMMANDS, usageText } from './commands.js';
import { runFleet } from './fleet/index.js';
import { runFleetOta } from '../../../ota/cli/run-fleet-ota.js';
import { runOta } from '../../../ota/cli/run-ota.js';
import type { OtaCliIo } from '../../../ota/cli/io.js';
import type { CliContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { usageError } from './usage-error.js';
import { firmwareVersion } from './version.js';

function isParseArgsError(e: unknown): e is Error {
  const code: unknown = e instanceof Error ? (e as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

async function dispatch(command: string, args: string[], ctx: CliContext): Promise<number> {
  switch (command) {
    case 'run':
      return cmdRun(args, ctx);
    case 'check-config':
      return cmdCheckConfig(args, ctx);
    case 'status':
    case 'registrations':
    case 'calls':
      return cmdApi(command, args, ctx);
    case 'dev-config':
      return cmdDevConfig(args, ctx);
    case 'factory-reset':
      // Issue 5: the installer at the console (docs/HARDWARE.md "Factory reset").
      return cmdFactoryReset(args, ctx);
    case 'fleet':
      // The central admin's commands: config and status (issue 3) and updates (issue 4), through the cloud broker.
      if (args[0] === 'ota') return runFleetOta(args.slice(1), otaIo(ctx));
      return runFleet(args, ctx);
    case 'ota':
      // Bundle tooling (issue 4): keygen, build, sign, verify, inspect.
      return runOta(args, otaIo(ctx));
    case 'config-schema':
      if (args.length > 0) throw usageError('config-schema takes no arguments');
      ctx.out(configJsonSchemaText());
      return EXIT.OK;
    default:
      throw usageError(command.startsWith('-') ? `unknown option ${command}` : `unknown command ${command}`);
  }
}

function otaIo(ctx: CliContext): OtaCliIo {
  return {
    out: ctx.out,
    err: ctx.err,
    env: ctx.env,
    isTTY: process.stdout.isTTY === true,
    columns: process.stdout.columns,
    interrupted: new Promise<void>((resolve) => {
      const off = ctx.onSignal(['SIGINT'], () => {
        off();
        resolve();
      });
    }),
  };
}

export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    ctx.err(usageText());
    return EXIT.USAGE;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    ctx.out(usageText());
    return EXIT.OK;
  }
  if (first === '--version' || first === '-V') {
    ctx.out(`pgw ${firmwareVersion()}\n`);
    return EXIT.OK;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const info = COMMANDS.find((c) => c.name === first);
    if (info) {
      ctx.out(`Usage: ${info.synopsis}\n  ${info.summary}\n`);
      return EXIT.OK;
    }
  }
  try {
    return await dispatch(first, [...rest], ctx);
  } catch (e) {
    if (isPgwError(e, 'PGW_E_USAGE') || isParseArgsError(e)) {
      const known = COMMANDS.some((c) => c.name === first);
      ctx.err(`pgw${known ? ` ${first}` : ''}: ${(e as Error).message}\n\n${usageText()}`);
      return EXIT.USAGE;
    }
    ctx.err(`pgw ${first}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.FAILURE;
  }
}
