/**
 * `pgw fleet ota publish|status`: the central admin's side of updates.
 *
 *   pgw fleet ota publish --broker URL --bundle FILE --url URL (--device ID … | --group NAME)
 *       [--groups FILE] [--policy window|now|defer-until] [--not-before ISO] [--window JSON]
 *       [--timezone TZ] [--pub FILE|DIR …] [--signature B64] [--id ID] [--dry-run] [--json]
 *   pgw fleet ota status --broker URL [--device ID … | --group NAME] [--watch | --until-done] [--json]
 *
 * Broker access follows `pgw fleet`: --broker or $PGW_FLEET_BROKER; --ca, --cert, --key for TLS;
 * --username or $PGW_FLEET_USERNAME with the password only in $PGW_FLEET_PASSWORD.
 *
 * Exit codes: 0 done (status --until-done: every box committed), 1 invalid input or a box
 * refused/failed/rolled back, 2 usage error, 3 broker unreachable.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { MqttClient } from 'mqtt';
import { isPgwError } from '../../firmware/src/util/errors.js';
import { loadTrustedKeys } from '../bundle/keys.js';
import { discoverDevices, isDeviceId, loadGroup } from '../fleet/groups.js';
import { collectReported, connectFleet, publishTarget, watchReported } from '../fleet/mqtt.js';
import { targetForBundle } from '../fleet/target.js';
import { POLICIES, windowSchema } from '../protocol/desired.js';
import type { InstallPolicy, MaintenanceWindow } from '../protocol/desired.js';
import type { OtaReported } from '../protocol/reported.js';
import { OTA_EXIT, OtaUsageError, processOtaIo } from './io.js';
import type { OtaCliIo } from './io.js';
import { formatStatusTable } from './status-format.js';

export const FLEET_OTA_COMMANDS = [
  {
    name: 'fleet ota publish',
    synopsis:
      'pgw fleet ota publish --broker URL --bundle FILE --url URL (--device ID ... | --group NAME) [--groups FILE] [--policy window|now|defer-until] [--not-before ISO] [--window JSON] [--timezone TZ] [--pub FILE|DIR ...] [--signature B64] [--id ID] [--dry-run] [--json]',
    summary: 'check the bundle, then publish its target (retained ota/desired) to each box',
  },
  {
    name: 'fleet ota status',
    synopsis: 'pgw fleet ota status --broker URL [--device ID ... | --group NAME] [--groups FILE] [--watch | --until-done] [--json]',
    summary: 'every box’s update state and progress (a progress bar on a terminal); --watch follows it live',
  },
] as const;

export function fleetOtaUsage(): string {
  return [
    'Usage:',
    ...FLEET_OTA_COMMANDS.flatMap((c) => [`  ${c.synopsis}`, `      ${c.summary}`]),
    '',
    'Broker: --broker (or $PGW_FLEET_BROKER); --ca FILE, --cert FILE --key FILE; --username (or $PGW_FLEET_USERNAME), password in $PGW_FLEET_PASSWORD.',
    'Groups: --groups FILE (or $PGW_FLEET_GROUPS) holding { "groups": { "NAME": ["device-id", ...] } }; the group "all" is every box on the broker.',
    'Exit codes: 0 done, 1 invalid input or a box refused/failed/rolled back, 2 usage error, 3 broker unreachable.',
    '',
  ].join('\n');
}

const BROKER_OPTIONS = {
  broker: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  username: { type: 'string' },
} as const;

interface BrokerArgs {
  broker?: string;
  ca?: string;
  cert?: string;
  key?: string;
  username?: string;
}

class BrokerError extends Error {}

async function connect(v: BrokerArgs, io: OtaCliIo): Promise<MqttClient> {
  const url = v.broker ?? io.env.PGW_FLEET_BROKER;
  if (!url) throw new OtaUsageError('--broker URL (or $PGW_FLEET_BROKER) is required');
  if (!/^(?:mqtts?|wss?):\/\/\S+$/.test(url)) throw new OtaUsageError(`--broker must be an mqtt://, mqtts://, ws:// or wss:// URL`);
  const [ca, cert, key] = await Promise.all([v.ca, v.cert, v.key].map((p) => (p ? readFile(p) : undefined)));
  try {
    return await connectFleet(url, {
      username: v.username ?? io.env.PGW_FLEET_USERNAME,
      password: io.env.PGW_FLEET_PASSWORD,
      ca,
      cert,
      key,
    });
  } catch (e) {
    throw new BrokerError(`cannot connect to the broker ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${(e as Error).message}`);
  }
}

async function resolveDevices(
  v: { device?: string[]; group?: string; groups?: string },
  io: OtaCliIo,
  client: () => Promise<MqttClient>,
): Promise<string[] | undefined> {
  if (v.device?.length && v.group) throw new OtaUsageError('give --device or --group, not both');
  for (const d of v.device ?? []) if (!isDeviceId(d)) throw new OtaUsageError(`"${d}" is not a device id`);
  if (v.device?.length) return [...new Set(v.device)];
  if (!v.group) return undefined;
  if (v.group === 'all') return discoverDevices(await client());
  const file = v.groups ?? io.env.PGW_FLEET_GROUPS;
  if (!file) throw new OtaUsageError(`--group ${v.group} needs --groups FILE (or $PGW_FLEET_GROUPS)`);
  return loadGroup(file, v.group);
}

async function publish(args: string[], io: OtaCliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...BROKER_OPTIONS,
      bundle: { type: 'string' },
      url: { type: 'string' },
      device: { type: 'string', multiple: true },
      group: { type: 'string' },
      groups: { type: 'string' },
      policy: { type: 'string' },
      'not-before': { type: 'string' },
      window: { type: 'string' },
      timezone: { type: 'string' },
      pub: { type: 'string', multiple: true },
      signature: { type: 'string' },
      id: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length) throw new OtaUsageError(`unexpected argument ${positionals[0]}`);
  if (!values.bundle || !values.url) throw new OtaUsageError('publish needs --bundle FILE and --url URL');
  if (!values.device?.length && !values.group) throw new OtaUsageError('publish needs --device ID (repeatable) or --group NAME');
  const policy = (values.policy ?? 'window') as InstallPolicy;
  if (!(POLICIES as readonly string[]).includes(policy)) throw new OtaUsageError(`--policy must be one of ${POLICIES.join(', ')}`);
  if ((policy === 'defer-until') !== (values['not-before'] !== undefined)) throw new OtaUsageError('--not-before goes with --policy defer-until (and is required by it)');
  let window: MaintenanceWindow | undefined;
  if (values.window !== undefined || values.timezone !== undefined) {
    let raw: unknown = {};
    if (values.window !== undefined) {
      try {
        raw = JSON.parse(values.window);
      } catch (e) {
        throw new OtaUsageError(`--window is not JSON: ${(e as Error).message}`);
      }
    }
    const parsed = windowSchema.safeParse({ ...(raw as object), ...(values.timezone ? { timezone: values.timezone } : {}) });
    if (!parsed.success) throw new OtaUsageError(`--window: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    window = parsed.data;
  }
  const trusted = values.pub?.length ? await loadTrustedKeys(values.pub) : undefined;
  const target = await targetForBundle({
    bundle: values.bundle,
    url: values.url,
    policy,
    notBefore: values['not-before'],
    window,
    signature: values.signature,
    trusted,
    id: values.id,
    issuedAt: new Date().toISOString(),
  });
  let client: MqttClient | undefined;
  const getClient = async (): Promise<MqttClient> => (client ??= await connect(values, io));
  try {
    const devices = await resolveDevices(values, io, getClient);
    if (!devices || devices.length === 0) {
      io.err('pgw fleet ota publish: no devices to publish to\n');
      return OTA_EXIT.INVALID;
    }
    if (!values['dry-run']) await publishTarget(await getClient(), devices, target);
    if (values.json) io.out(`${JSON.stringify({ published: !values['dry-run'], devices, target })}\n`);
    else
      io.out(
        `${values['dry-run'] ? 'would publish' : 'published'} target ${target.id} (version ${target.version}, policy ${target.policy}, ${target.size} bytes) to ${devices.length} device${devices.length === 1 ? '' : 's'}: ${devices.join(', ')}\n`,
      );
    return OTA_EXIT.OK;
  } finally {
    await client?.endAsync().catch(() => undefined);
  }
}

const DONE_STATES = new Set(['committed', 'rolled-back', 'refused', 'failed']);

async function status(args: string[], io: OtaCliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...BROKER_OPTIONS,
      device: { type: 'string', multiple: true },
      group: { type: 'string' },
      groups: { type: 'string' },
      watch: { type: 'boolean' },
      'until-done': { type: 'boolean' },
      json: { type: 'boolean' },
      'settle-ms': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length) throw new OtaUsageError(`unexpected argument ${positionals[0]}`);
  if (values.watch && values['until-done']) throw new OtaUsageError('give --watch or --until-done, not both');
  const settleMs = values['settle-ms'] === undefined ? 500 : Number(values['settle-ms']);
  if (!Number.isInteger(settleMs) || settleMs < 0) throw new OtaUsageError('--settle-ms must be a whole number of milliseconds');
  const client = await connect(values, io);
  try {
    const devices = await resolveDevices(values, io, async () => client);
    const tty = io.isTTY === true;
    if (!values.watch && !values['until-done']) {
      const reports = await collectReported(client, { deviceIds: devices, settleMs });
      if (values.json) io.out(`${JSON.stringify(Object.fromEntries(reports), null, 2)}\n`);
      else if (reports.size === 0) io.out('no box has reported an update state\n');
      else io.out(formatStatusTable(reports, { tty, columns: io.columns }));
      for (const d of devices ?? []) if (!reports.has(d)) io.err(`${d}: no ota/reported on the broker\n`);
      return OTA_EXIT.OK;
    }
    // Live: redraw on a terminal, one line per change otherwise.
    const reports = new Map<string, OtaReported>();
    let settled = false;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((r) => (resolveDone = r));
    const render = (id: string, r: OtaReported): void => {
      if (values.json) io.out(`${JSON.stringify({ device: id, ...r })}\n`);
      else if (tty) io.out(`\x1b[H\x1b[2J${formatStatusTable(reports, { tty, columns: io.columns })}`);
      else io.out(`${r.at} ${id} ${r.state}${r.progress ? ` ${r.progress.phase} ${r.progress.percent.toFixed(1)}%` : ''}${r.reason ? ` ${r.reason.code}` : ''}\n`);
    };
    const allDone = (): boolean => {
      const want = devices ?? [...reports.keys()];
      return want.length > 0 && want.every((d) => DONE_STATES.has(reports.get(d)?.state ?? ''));
    };
    const stop = await watchReported(client, {
      deviceIds: devices,
      onUpdate: (id, r) => {
        reports.set(id, r);
        if (settled || !tty) render(id, r);
        if (values['until-done'] && allDone()) resolveDone();
      },
    });
    await new Promise((r) => setTimeout(r, Math.min(settleMs, 1_000)));
    settled = true;
    if (tty && !values.json) io.out(`\x1b[H\x1b[2J${formatStatusTable(reports, { tty, columns: io.columns })}`);
    if (values['until-done'] && allDone()) resolveDone();
    await Promise.race([done, io.interrupted ?? new Promise<void>(() => undefined)]);
    await stop();
    if (!values['until-done']) return OTA_EXIT.OK;
    const bad = [...reports.entries()].filter(([, r]) => r.state !== 'committed');
    for (const [id, r] of bad) io.err(`${id}: ${r.state}${r.reason ? ` (${r.reason.code}: ${r.reason.message})` : ''}\n`);
    return bad.length === 0 && allDone() ? OTA_EXIT.OK : OTA_EXIT.INVALID;
  } finally {
    await client.endAsync().catch(() => undefined);
  }
}

/** Runs `pgw fleet ota <argv...>` (argv is what follows `fleet ota`); resolves to the exit code. */
export async function runFleetOta(argv: string[], io: OtaCliIo = processOtaIo()): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      (cmd === undefined ? io.err : io.out)(fleetOtaUsage());
      return cmd === undefined ? OTA_EXIT.USAGE : OTA_EXIT.OK;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(fleetOtaUsage());
      return OTA_EXIT.OK;
    }
    switch (cmd) {
      case 'publish':
        return await publish(rest, io);
      case 'status':
        return await status(rest, io);
      default:
        throw new OtaUsageError(`unknown command "fleet ota ${cmd}"`);
    }
  } catch (e) {
    if (e instanceof OtaUsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`pgw fleet ota: ${(e as Error).message}\n\n${fleetOtaUsage()}`);
      return OTA_EXIT.USAGE;
    }
    if (e instanceof BrokerError) {
      io.err(`pgw fleet ota ${cmd}: ${e.message}\n`);
      return OTA_EXIT.FAILURE;
    }
    if (isPgwError(e) || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      io.err(`pgw fleet ota ${cmd}: ${(e as Error).message}\n`);
      return OTA_EXIT.INVALID;
    }
    io.err(`pgw fleet ota ${cmd}: ${(e as Error).message}\n`);
    return OTA_EXIT.FAILURE;
  }
}
