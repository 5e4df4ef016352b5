/** How config errors reach the terminal: one `path: message` line per problem. */
import { isPgwError } from '../util/errors.js';
import type { ConfigProblem } from '../config/problems.js';
import { formatProblem } from '../config/problems.js';
import type { CliContext } from './context.js';
import { EXIT } from './exit-codes.js';

/**
 * For a PGW_E_CONFIG_* error: prints it (problem lines on `write`, the
 * summary on stderr) and returns exit code 1; for anything else returns undefined.
 */
export function reportConfigError(e: unknown, ctx: CliContext, command: string, write: (text: string) => void): number | undefined {
  if (isPgwError(e, 'PGW_E_CONFIG_READ')) {
    ctx.err(`pgw ${command}: ${e.message}\n`);
    return EXIT.INVALID_INPUT;
  }
  if (isPgwError(e, 'PGW_E_CONFIG_INVALID')) {
    const problems = (e.context.errors ?? []) as ConfigProblem[];
    for (const p of problems) write(`${formatProblem(p)}\n`);
    ctx.err(`pgw ${command}: ${e.message}\n`);
    return EXIT.INVALID_INPUT;
  }
  return undefined;
}
