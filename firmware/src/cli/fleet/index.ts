/**
 * `pgw fleet ...`: the central admin's tools over the cloud broker
 * (issue 3, "For central admins"). The CLI hooks `pgw fleet` to runFleet;
 * FLEET_COMMANDS holds the usage lines for its help text.
 *
 *   pgw fleet config push --broker URL --device ID [--timeout S] FILE
 *   pgw fleet status --broker URL [--device ID] [--json] [--wait S]
 *
 * Broker access: --ca/--cert/--key for TLS with a client certificate,
 * --username (or PGW_FLEET_USERNAME) with PGW_FLEET_PASSWORD; --broker
 * defaults to PGW_FLEET_BROKER.
 */
import { isPgwError } from '../../util/errors.js';
import { EXIT } from '../exit-codes.js';
import { parseFleetArgs } from './args.js';
import { runConfigPush } from './config-push.js';
import type { FleetIo } from './fleet-io.js';
import { processIo } from './fleet-io.js';
import { runFleetStatus } from './status.js';

export type { FleetIo } from './fleet-io.js';

export const FLEET_COMMANDS = [
  {
    name: 'fleet config push',
    synopsis: 'pgw fleet config push --broker URL --device ID [--timeout S] FILE',
    summary: "validate FILE, publish it as the box's config/desired (retained) and wait for its config/reported",
  },
  {
    name: 'fleet status',
    synopsis: 'pgw fleet status --broker URL [--device ID] [--json] [--wait S]',
    summary: 'show the retained status of one box or of every box on the broker',
  },
] as const;

export function fleetUsage(): string {
  return [
    'Usage:',
    ...FLEET_COMMANDS.flatMap((c) => [`  ${c.synopsis}`, `      ${c.summary}`]),
    '',
    'Broker: --broker (or $PGW_FLEET_BROKER) mqtt://, mqtts://, ws://, wss://; --ca FILE, --cert FILE --key FILE;',
    '        --username (or $PGW_FLEET_USERNAME) with the password in $PGW_FLEET_PASSWORD.',
    'Exit codes: 0 applied / shown, 1 invalid, rejected or ignored, 2 usage error, 3 broker unreachable or no report in time.',
    '',
  ].join('\n');
}

/** Runs `pgw fleet <argv...>` (argv is what follows `fleet`); resolves to the exit code. */
export async function runFleet(argv: string[], io: FleetIo = processIo()): Promise<number> {
  try {
    const [a, b] = argv;
    if (a === undefined || a === '--help' || a === '-h' || a === 'help') {
      (a === undefined ? io.err : io.out)(fleetUsage());
      return a === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (a === 'config' && b === 'push') {
      const args = parseFleetArgs(argv.slice(2), io.env);
      if (args.help) {
        io.out(fleetUsage());
        return EXIT.OK;
      }
      return await runConfigPush(args, io);
    }
    if (a === 'status') {
      const args = parseFleetArgs(argv.slice(1), io.env);
      if (args.help) {
        io.out(fleetUsage());
        return EXIT.OK;
      }
      return await runFleetStatus(args, io);
    }
    io.err(`pgw fleet: unknown command "${argv.slice(0, 2).join(' ')}"\n${fleetUsage()}`);
    return EXIT.USAGE;
  } catch (e) {
    if (isPgwError(e, 'PGW_E_USAGE')) {
      io.err(`pgw fleet: ${e.message}\n${fleetUsage()}`);
      return EXIT.USAGE;
    }
    io.err(`pgw fleet: ${(e as Error).message}\n`);
    return EXIT.FAILURE;
  }
}
