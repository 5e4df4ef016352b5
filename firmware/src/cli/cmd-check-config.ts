/**
 * `pgw check-config FILE`: a gateway file, a practice document or an MQTT
 * `config/desired` payload. Valid: a one-line summary on stdout, exit 0.
 * Invalid: one `path: message` line per problem on stdout, a summary on
 * stderr, exit 1. Unreadable or not JSON: a message on stderr, exit 1.
 */
import { parseArgs } from 'node:util';
import { readJsonFile } from '../config/load.js';
import { validateAnyConfig } from '../config/validate.js';
import type { ConfigDocumentKind } from '../config/validate.js';
import { formatProblem } from '../config/problems.js';
import type { Practice } from '../config/practice-schema.js';
import type { CliContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { reportConfigError } from './print-problems.js';
import { usageError } from './usage-error.js';

const KIND_NAMES: Record<ConfigDocumentKind, string> = {
  'gateway-file': 'gateway file',
  practice: 'practice document',
  desired: 'config/desired payload',
};

function describePractice(p: Practice): string {
  const n = (count: number, what: string): string => `${count} ${what}${count === 1 ? '' : 's'}`;
  return `practice version ${p.version}: ${n(p.extensions.length, 'extension')}, ${n(p.huntGroups.length, 'hunt group')}, ${n(
    (p.uplinks?.cloud ? 1 : 0) + (p.uplinks?.trunks.length ?? 0),
    'uplink',
  )}`;
}

export async function cmdCheckConfig(args: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw usageError('check-config takes exactly one FILE');
  const file = positionals[0]!;
  let json: unknown;
  try {
    json = await readJsonFile(file);
  } catch (e) {
    const code = reportConfigError(e, ctx, 'check-config', ctx.out);
    if (code !== undefined) return code;
    throw e;
  }
  const { kind, result } = validateAnyConfig(json);
  if (!result.ok) {
    for (const p of result.errors) ctx.out(`${formatProblem(p)}\n`);
    const count = result.errors.length;
    ctx.err(`pgw check-config: ${file} is not a valid ${KIND_NAMES[kind]} (${count} problem${count === 1 ? '' : 's'})\n`);
    return EXIT.INVALID_INPUT;
  }
  let detail: string;
  switch (kind) {
    case 'gateway-file': {
      const v = result.value as { device: { id: string }; practice?: Practice };
      detail = `device ${v.device.id}${v.practice ? `; ${describePractice(v.practice)}` : '; no practice'}`;
      break;
    }
    case 'practice':
      detail = describePractice(result.value as Practice);
      break;
    case 'desired':
      detail = describePractice((result.value as { practice: Practice }).practice);
      break;
    default: {
      const never: never = kind;
      throw new Error(`unknown kind ${String(never)}`);
    }
  }
  ctx.out(`${file}: valid ${KIND_NAMES[kind]} (${detail})\n`);
  return EXIT.OK;
}
