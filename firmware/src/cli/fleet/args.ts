/** Command-line parsing for `pgw fleet ...` (node:util parseArgs, strict). */
import { parseArgs } from 'node:util';
import { usageError } from '../usage-error.js';
import type { BrokerOptions } from './broker-options.js';
import { checkBrokerUrl } from './broker-options.js';

export interface FleetArgs {
  broker: BrokerOptions;
  device?: string;
  timeoutMs: number;
  waitMs: number;
  json: boolean;
  help: boolean;
  positionals: string[];
}

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`--${name} must be a positive number of seconds`);
  return Math.round(n * 1000);
}

/** Parses the options shared by the fleet commands; positionals are what is left. */
export function parseFleetArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): FleetArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        broker: { type: 'string' },
        device: { type: 'string' },
        timeout: { type: 'string' },
        wait: { type: 'string' },
        ca: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        username: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const v = parsed.values;
  const help = v.help === true;
  const url = v.broker ?? env.PGW_FLEET_BROKER;
  if (!help && url === undefined) throw usageError('--broker URL is required (or set PGW_FLEET_BROKER)');
  if (url !== undefined && !checkBrokerUrl(url)) throw usageError(`--broker must be an mqtt://, mqtts://, ws:// or wss:// URL, not ${JSON.stringify(url)}`);
  if (v.device !== undefined && !DEVICE_ID.test(v.device)) throw usageError(`--device ${JSON.stringify(v.device)} is not a device id`);
  if ((v.cert === undefined) !== (v.key === undefined)) throw usageError('--cert and --key go together');
  const timeoutMs = seconds(v.timeout, 'timeout', 30);
  return {
    broker: {
      url: url ?? '',
      ca: v.ca,
      cert: v.cert,
      key: v.key,
      username: v.username ?? env.PGW_FLEET_USERNAME,
      password: env.PGW_FLEET_PASSWORD,
      connectTimeoutMs: Math.min(timeoutMs, 10_000),
    },
    device: v.device,
    timeoutMs,
    waitMs: seconds(v.wait, 'wait', 2),
    json: v.json === true,
    help,
    positionals: parsed.positionals,
  };
}
