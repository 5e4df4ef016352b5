/**
 * `pgw factory-reset --yes [--config FILE] [--data DIR] [--identity DIR]`:
 * the installer at the box's console erases the practice's data and the
 * box's identity (docs/HARDWARE.md "Factory reset").
 *
 *   no --yes ──▶ what would be erased on stderr, exit 2
 *   the running gateway answers on DATA/control.sock ──▶ it does the reset itself
 *        (refused while calls are up or an update is on the slots: exit 5), then restarts the board
 *   nothing listens there (no gateway running) ──▶ erased here, offline (needs --config)
 *
 * The running gateway is asked, not bypassed: only it knows whether calls are
 * up, and it holds new calls and stops its own writers before erasing.
 */
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OTA_STATES_BLOCKING_RESET } from '../../../hw/reset/erase-plan.js';
import { factoryReset, type FactoryResetPaths } from '../../../hw/reset/factory-eraser.js';
import { identityDirFrom } from '../../../hw/identity/device-identity.js';
import { readTextIfExists } from '../store/atomic-file.js';
import { controlSocketPath, FACTORY_RESET_CONFIRM, FACTORY_RESET_PATH } from '../wiring/control-socket.js';
import { DEFAULT_DATA_DIR } from './cmd-run.js';
import type { CliContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { usageError } from './usage-error.js';

const WHAT = [
  'This erases the practice config (current and last known good), call records not yet sent,',
  'recordings and voicemail, the update agent\'s downloads and state, and the box\'s identity',
  '(key pair, device id, claim code); the gateway file is rewritten as first boot writes it.',
  'Kept: the installed software and boot slots, the board. Run again with --yes to do it.',
].join('\n');

type ControlAnswer = { status: number; body: Record<string, unknown> } | { offline: true };

export async function cmdFactoryReset(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { yes: { type: 'boolean' }, config: { type: 'string' }, data: { type: 'string' }, identity: { type: 'string' } },
    allowPositionals: false,
    strict: true,
  });
  if (!values.yes) {
    ctx.err(`pgw factory-reset: refused without --yes.\n${WHAT}\n`);
    return EXIT.USAGE;
  }
  const dataDir = resolve(values.data ?? DEFAULT_DATA_DIR);
  const identityDir = resolve(values.identity ?? identityDirFrom(ctx.env as NodeJS.ProcessEnv));

  const online = await askRunningGateway(controlSocketPath(dataDir));
  if (!('offline' in online)) {
    const b = online.body;
    if (online.status === 200) {
      ctx.out(`factory reset done by the running gateway: new device id ${String(b.deviceId)}, claim code ${String(b.claimCode)}; the box restarts now\n`);
      return EXIT.OK;
    }
    ctx.err(`pgw factory-reset: ${String(b.message ?? `the gateway answered ${online.status}`)}\n`);
    return online.status === 409 ? EXIT.REFUSED : EXIT.FAILURE;
  }

  // No gateway runs on this data directory: erase here.
  if (values.config === undefined) throw usageError('no gateway is running on this data directory: factory-reset needs --config FILE to reset offline');
  const paths: FactoryResetPaths = { dataDir, configFile: resolve(values.config), identityDir };
  const ota = await otaStateOffline(dataDir);
  if (ota !== null && OTA_STATES_BLOCKING_RESET.includes(ota)) {
    ctx.err(`pgw factory-reset: refused: an update is in progress (${ota}; a reset must not change what software runs); start the gateway and let it finish\n`);
    return EXIT.REFUSED;
  }
  const r = await factoryReset(paths, { source: 'cli-offline', now: () => ctx.clock.now() });
  ctx.out(
    `factory reset done (no gateway was running): ${r.erased.length} entries erased; new device id ${r.deviceId}, claim code ${r.claimCode}.\n` +
      'Start the gateway (or reboot the box) to come up factory-fresh.\n',
  );
  return EXIT.OK;
}

/** POSTs the reset to the gateway's control socket; `offline` when nothing listens there. */
function askRunningGateway(socketPath: string): Promise<ControlAnswer> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ socketPath, path: FACTORY_RESET_PATH, method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { message: text.trim() };
        }
        resolvePromise({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      // No socket file, or one left by a gateway that is gone: nobody is running.
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') resolvePromise({ offline: true });
      else reject(e);
    });
    req.end(JSON.stringify({ confirm: FACTORY_RESET_CONFIRM }));
  });
}

async function otaStateOffline(dataDir: string): Promise<string | null> {
  try {
    const text = await readTextIfExists(join(dataDir, 'ota', 'state.json'));
    const state = text === null ? null : (JSON.parse(text) as { state?: unknown }).state;
    return typeof state === 'string' ? state : null;
  } catch {
    return null;
  }
}
