/**
 * The commands of `pgw`, as data: the usage text and docs/CONTRACT.md are
 * both checked against this list (tests/unit/cli/contract-doc.test.ts).
 */
import { FLEET_COMMANDS } from './fleet/index.js';
import { FLEET_OTA_COMMANDS } from '../../../ota/cli/run-fleet-ota.js';
import { OTA_COMMANDS } from '../../../ota/cli/run-ota.js';

export interface CommandInfo {
  name: string;
  synopsis: string;
  summary: string;
}

export const COMMANDS: readonly CommandInfo[] = [
  {
    name: 'run',
    synopsis: 'pgw run --config FILE [--data DIR] [--log-level LEVEL]',
    summary: 'run the gateway; DIR (default ./var) holds the store; logs are JSON lines on stdout',
  },
  {
    name: 'check-config',
    synopsis: 'pgw check-config FILE',
    summary: 'validate a gateway file, a practice document or a config/desired payload; one `path: message` line per problem',
  },
  { name: 'status', synopsis: 'pgw status [--api URL] [--json]', summary: 'ask a running gateway for its status' },
  { name: 'registrations', synopsis: 'pgw registrations [--api URL] [--json]', summary: "list the phones' registrations" },
  { name: 'calls', synopsis: 'pgw calls [--api URL] [--json]', summary: 'list active calls with their legs and media counters' },
  {
    name: 'dev-config',
    synopsis: 'pgw dev-config FILE [--admin HOST:PORT] [--sip-port N] [--no-uplinks]',
    summary: "print a standalone gateway file for `make run` from FILE's practice",
  },
  {
    name: 'factory-reset',
    synopsis: 'pgw factory-reset --yes [--config FILE] [--data DIR] [--identity DIR]',
    summary: "erase the practice's data and the box's identity (through the running gateway, or offline with --config); refused while calls are up",
  },
  { name: 'config-schema', synopsis: 'pgw config-schema', summary: 'print the JSON Schema of the gateway file (docs/config.schema.json)' },
  ...FLEET_COMMANDS,
  ...OTA_COMMANDS,
  ...FLEET_OTA_COMMANDS,
];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const DEFAULT_API = 'http://127.0.0.1:8080';

export function usageText(): string {
  return [
    'pgw: the practice gateway',
    '',
    'Usage:',
    ...COMMANDS.flatMap((c) => [`  ${c.synopsis}`, `      ${c.summary}`]),
    '  pgw --help | --version',
    '',
    `--api defaults to $PGW_API, else ${DEFAULT_API}. --log-level: ${LOG_LEVELS.join(', ')}.`,
    'Exit codes: 0 success, 1 invalid input, 2 usage error, 3 gateway failure, 4 admin API unreachable or error, 5 refused (factory reset with calls up).',
    '',
  ].join('\n');
}
