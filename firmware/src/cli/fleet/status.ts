/**
 * `pgw fleet status --broker URL [--device ID]`: reads the retained
 * `status` and `config/reported` of one box or of every box under
 * `pgw/v1/` and prints a table (or JSON with --json).
 *
 * Retained messages come right after the SUBACK; the command stops
 * listening once none has come for a short quiet spell, or after --wait.
 * Exit: 0 shown; 1 --device given and the broker knows nothing of it;
 * 2 usage; 3 broker unreachable.
 */
import type { MqttClient } from 'mqtt';
import { SystemClock } from '../../util/clock.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { isPgwError } from '../../util/errors.js';
import type { ReportedConfig, StatusPayload } from '../../sync/payloads.js';
import { deviceIdOfTopic, deviceTopics, fleetFilter } from '../../sync/topics.js';
import { EXIT } from '../exit-codes.js';
import { usageError } from '../usage-error.js';
import type { FleetArgs } from './args.js';
import { connectFleetClient } from './broker-options.js';
import type { FleetIo } from './fleet-io.js';
import type { BoxView } from './status-table.js';
import { formatTable, STATUS_COLUMNS, statusRow } from './status-table.js';

/** No retained message for this long after the last one: the broker has sent them all. */
const QUIET_MS = 300;

export async function runFleetStatus(args: FleetArgs, io: FleetIo): Promise<number> {
  if (args.positionals.length > 0) throw usageError(`status takes no FILE (got ${args.positionals.join(' ')})`);
  const clock = io.clock ?? new SystemClock();
  let client: MqttClient;
  try {
    client = await connectFleetClient(args.broker);
  } catch (e) {
    io.err(`pgw fleet status: ${(e as Error).message}\n`);
    return isPgwError(e, 'PGW_E_CONFIG_READ') ? EXIT.INVALID_INPUT : EXIT.FAILURE;
  }
  let boxes: Map<string, BoxView>;
  try {
    boxes = await collect(client, args, clock);
  } catch (e) {
    io.err(`pgw fleet status: ${(e as Error).message}\n`);
    return EXIT.FAILURE;
  } finally {
    await client.endAsync().catch(() => undefined);
  }
  const list = [...boxes.values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  if (args.device && list.length === 0) {
    io.err(`pgw fleet status: the broker has no status for ${args.device} (never connected, or a different broker)\n`);
    return EXIT.INVALID_INPUT;
  }
  if (args.json) {
    io.out(`${JSON.stringify(list, null, 2)}\n`);
    return EXIT.OK;
  }
  if (list.length === 0) {
    io.out('no boxes have published a status on this broker\n');
    return EXIT.OK;
  }
  io.out(formatTable(STATUS_COLUMNS, list.map((b) => statusRow(b, clock.now()))));
  return EXIT.OK;
}

async function collect(client: MqttClient, args: FleetArgs, clock: Clock): Promise<Map<string, BoxView>> {
  const boxes = new Map<string, BoxView>();
  const filters = args.device
    ? [deviceTopics(args.device).status, deviceTopics(args.device).configReported]
    : [fleetFilter('status'), fleetFilter('config/reported')];
  let quiet: TimerHandle | undefined;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const rearm = () => {
    quiet?.cancel();
    quiet = clock.setTimer(QUIET_MS, finish);
  };
  client.on('message', (topic, payload) => {
    const id = deviceIdOfTopic(topic);
    if (!id || payload.length === 0) return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const box = boxes.get(id) ?? { deviceId: id };
    if (topic.endsWith('/config/reported')) box.reported = body as ReportedConfig;
    else box.status = body as StatusPayload;
    boxes.set(id, box);
    rearm();
  });
  await client.subscribeAsync(filters.map((f) => f), { qos: 1 });
  rearm();
  const cap = clock.setTimer(args.waitMs, finish);
  await done;
  quiet?.cancel();
  cap.cancel();
  // A box seen only through config/reported has no status: keep it only when asked for by id.
  if (!args.device) for (const [id, b] of boxes) if (!b.status) boxes.delete(id);
  return boxes;
}
