/**
 * `pgw dev-config FILE`: the gateway file `make run` runs on. It takes the
 * practice (and device id) of FILE, a gateway file or a practice document,
 * and makes it standalone and portable:
 *   - no device.cloud (standalone), no device.interfaces (found at runtime),
 *     generic board;
 *   - admin API on 127.0.0.1:8080 (--admin to change);
 *   - SIP on UDP and TCP 0.0.0.0:5060 (--sip-port to change);
 *   - --no-uplinks drops practice.uplinks, for internal calls only.
 * The result is validated before it is printed.
 */
import { parseArgs } from 'node:util';
import { readJsonFile } from '../config/load.js';
import { detectDocumentKind, validateGatewayFile } from '../config/validate.js';
import { parseHostPort } from '../config/host-port.js';
import type { CliContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { reportConfigError } from './print-problems.js';
import { formatProblem } from '../config/problems.js';
import { usageError } from './usage-error.js';

export const DEV_ADMIN_LISTEN = '127.0.0.1:8080';
export const DEV_DEVICE_ID = 'pgw-dev';

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function cmdDevConfig(args: string[], ctx: CliContext): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    options: { admin: { type: 'string' }, 'sip-port': { type: 'string' }, 'no-uplinks': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw usageError('dev-config takes exactly one FILE');
  const admin = values.admin ?? DEV_ADMIN_LISTEN;
  if (!parseHostPort(admin)) throw usageError(`--admin ${admin} is not HOST:PORT`);
  const sipPort = values['sip-port'] === undefined ? 5060 : Number(values['sip-port']);
  if (!Number.isInteger(sipPort) || sipPort < 1 || sipPort > 65535) throw usageError(`--sip-port ${values['sip-port']} is not a port`);

  const file = positionals[0]!;
  let json: unknown;
  try {
    json = await readJsonFile(file);
  } catch (e) {
    const code = reportConfigError(e, ctx, 'dev-config', ctx.err);
    if (code !== undefined) return code;
    throw e;
  }
  let practice: unknown;
  let deviceId = DEV_DEVICE_ID;
  if (detectDocumentKind(json) === 'gateway-file') {
    const o = json as JsonObject;
    practice = o.practice;
    if (isObject(o.device) && typeof o.device.id === 'string') deviceId = o.device.id;
  } else {
    practice = json;
  }
  if (!isObject(practice)) {
    ctx.err(`pgw dev-config: ${file} has no practice\n`);
    return EXIT.INVALID_INPUT;
  }
  const sip = isObject(practice.sip) ? practice.sip : {};
  const devPractice: JsonObject = {
    ...practice,
    sip: {
      ...sip,
      listen: [
        { transport: 'udp', host: '0.0.0.0', port: sipPort },
        { transport: 'tcp', host: '0.0.0.0', port: sipPort },
      ],
    },
  };
  if (values['no-uplinks']) delete devPractice.uplinks;
  const out = { device: { id: deviceId, admin: { listen: admin } }, practice: devPractice };
  const r = validateGatewayFile(out);
  if (!r.ok) {
    for (const p of r.errors) ctx.err(`${formatProblem(p)}\n`);
    ctx.err(`pgw dev-config: ${file} does not make a valid gateway file\n`);
    return EXIT.INVALID_INPUT;
  }
  ctx.out(`${JSON.stringify(out, null, 2)}\n`);
  return EXIT.OK;
}
