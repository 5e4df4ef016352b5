/**
 * `pgw status`, `pgw registrations`, `pgw calls`: ask a running gateway's
 * admin API. Readable by default, `--json` for the raw answer. When the
 * gateway cannot be reached: a message on stderr and exit 4.
 */
import { parseArgs } from 'node:util';
import { isPgwError } from '../util/errors.js';
import { getApiJson, normaliseApiUrl } from './api-client.js';
import { DEFAULT_API } from './commands.js';
import type { CliContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { formatCalls, formatRegistrations, formatStatus } from './format-api.js';
import { usageError } from './usage-error.js';

export type ApiCommand = 'status' | 'registrations' | 'calls';

const PATHS: Record<ApiCommand, { path: string; format: (body: unknown) => string }> = {
  status: { path: '/api/v1/status', format: formatStatus },
  registrations: { path: '/api/v1/registrations', format: formatRegistrations },
  calls: { path: '/api/v1/calls', format: formatCalls },
};

export async function cmdApi(command: ApiCommand, args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { api: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: false,
    strict: true,
  });
  const given = values.api ?? ctx.env.PGW_API ?? DEFAULT_API;
  const base = normaliseApiUrl(given);
  if (!base) throw usageError(`--api ${given} is not an http:// or https:// URL`);
  const { path, format } = PATHS[command];
  let body: unknown;
  try {
    body = await getApiJson(base, path);
  } catch (e) {
    if (!isPgwError(e, 'PGW_E_API')) throw e;
    ctx.err(`pgw ${command}: ${e.message}\n`);
    return EXIT.API;
  }
  ctx.out(values.json ? `${JSON.stringify(body, null, 2)}\n` : format(body));
  return EXIT.OK;
}
