/**
 * `pgw fleet config push --broker URL --device ID FILE`: validates FILE
 * locally with the gateway's own schema, publishes it retained on the
 * box's `config/desired`, and waits for the box's `config/reported` about
 * that version.
 *
 * FILE may be a `{ version, practice }` desired payload, a practice
 * document (its `version` is used), or a gateway file (its `practice`).
 * The document is published as written; the box fills defaults itself.
 *
 * Exit: 0 applied; 1 invalid locally, rejected by the box (problems
 * printed as `path: message`) or ignored (not newer than what it runs);
 * 2 usage; 3 broker unreachable or no report within --timeout (the
 * desired config stays retained and the box applies it when it connects).
 */
import type { MqttClient } from 'mqtt';
import { readJsonFile } from '../../config/load.js';
import { formatProblem } from '../../config/problems.js';
import { detectDocumentKind, validateDesired } from '../../config/validate.js';
import { SystemClock } from '../../util/clock.js';
import { isPgwError } from '../../util/errors.js';
import type { ReportedConfig } from '../../sync/payloads.js';
import { deviceTopics } from '../../sync/topics.js';
import { EXIT } from '../exit-codes.js';
import { usageError } from '../usage-error.js';
import type { FleetArgs } from './args.js';
import { connectFleetClient } from './broker-options.js';
import type { FleetIo } from './fleet-io.js';

type Outcome = { kind: 'report'; report: ReportedConfig } | { kind: 'timeout' };

/** The `{ version, practice }` to publish, from whichever kind of document FILE holds. */
export function desiredFromDocument(json: unknown): { doc: unknown; error?: string } {
  const kind = detectDocumentKind(json);
  const o = json as Record<string, unknown>;
  switch (kind) {
    case 'desired':
      return { doc: json };
    case 'practice':
      return { doc: { version: typeof o?.version === 'number' ? o.version : undefined, practice: json } };
    case 'gateway-file': {
      const p = o.practice as Record<string, unknown> | undefined;
      if (!p) return { doc: undefined, error: 'the gateway file has no practice to push' };
      return { doc: { version: p.version, practice: p } };
    }
    default: {
      const never: never = kind;
      return { doc: undefined, error: `unknown document kind ${String(never)}` };
    }
  }
}

export async function runConfigPush(args: FleetArgs, io: FleetIo): Promise<number> {
  if (!args.device) throw usageError('config push needs --device ID');
  if (args.positionals.length !== 1) throw usageError('config push needs exactly one FILE');
  const file = args.positionals[0]!;
  let json: unknown;
  try {
    json = await readJsonFile(file);
  } catch (e) {
    if (isPgwError(e)) {
      io.err(`pgw fleet config push: ${e.message}\n`);
      return EXIT.INVALID_INPUT;
    }
    throw e;
  }
  const { doc, error } = desiredFromDocument(json);
  if (error) {
    io.err(`pgw fleet config push: ${file}: ${error}\n`);
    return EXIT.INVALID_INPUT;
  }
  const v = validateDesired(doc);
  if (!v.ok) {
    for (const p of v.errors) io.out(`${formatProblem(p)}\n`);
    io.err(`pgw fleet config push: ${file} is not valid (${v.errors.length} problem${v.errors.length === 1 ? '' : 's'}); nothing pushed\n`);
    return EXIT.INVALID_INPUT;
  }
  const version = v.value.version;
  const topics = deviceTopics(args.device);

  let client: MqttClient;
  try {
    client = await connectFleetClient(args.broker);
  } catch (e) {
    io.err(`pgw fleet config push: ${(e as Error).message}\n`);
    return isPgwError(e, 'PGW_E_CONFIG_READ') ? EXIT.INVALID_INPUT : EXIT.FAILURE;
  }
  try {
    const outcome = await publishAndWait(client, topics.configReported, topics.configDesired, doc, version, args.timeoutMs, io);
    return printOutcome(outcome, args.device, version, args.timeoutMs, io);
  } catch (e) {
    io.err(`pgw fleet config push: ${(e as Error).message}\n`);
    return EXIT.FAILURE;
  } finally {
    await client.endAsync().catch(() => undefined);
  }
}

async function publishAndWait(
  client: MqttClient,
  reportedTopic: string,
  desiredTopic: string,
  doc: unknown,
  version: number,
  timeoutMs: number,
  io: FleetIo,
): Promise<Outcome> {
  const clock = io.clock ?? new SystemClock();
  let settle!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
  client.on('message', (topic, payload, packet) => {
    // The retained report sent on subscribe is about an earlier push; only a live one answers this push.
    if (topic !== reportedTopic || packet.retain) return;
    let r: ReportedConfig;
    try {
      r = JSON.parse(payload.toString('utf8')) as ReportedConfig;
    } catch {
      return;
    }
    if (r.version === version || r.ignored?.version === version) settle({ kind: 'report', report: r });
  });
  await client.subscribeAsync(reportedTopic, { qos: 1 });
  await client.publishAsync(desiredTopic, JSON.stringify(doc), { qos: 1, retain: true });
  io.err(`pushed version ${version}; waiting up to ${Math.round(timeoutMs / 1000)} s for the box's report\n`);
  const timer = clock.setTimer(timeoutMs, () => settle({ kind: 'timeout' }));
  try {
    return await outcome;
  } finally {
    timer.cancel();
  }
}

function printOutcome(o: Outcome, device: string, version: number, timeoutMs: number, io: FleetIo): number {
  if (o.kind === 'timeout') {
    io.err(
      `pgw fleet config push: no report from ${device} within ${Math.round(timeoutMs / 1000)} s; version ${version} stays retained on the broker and is applied when the box connects\n`,
    );
    return EXIT.FAILURE;
  }
  const r = o.report;
  if (r.ignored) {
    io.err(`pgw fleet config push: ${device} ignored version ${version}: ${r.ignored.reason} (it runs version ${r.appliedVersion ?? r.version})\n`);
    return EXIT.INVALID_INPUT;
  }
  if (r.status === 'applied') {
    io.out(`${device}: version ${version} applied at ${r.at}\n`);
    return EXIT.OK;
  }
  for (const p of r.errors ?? []) io.out(`${formatProblem(p)}\n`);
  io.err(
    `pgw fleet config push: ${device} rejected version ${version} (${(r.errors ?? []).length} problem${(r.errors ?? []).length === 1 ? '' : 's'}); it runs version ${r.appliedVersion ?? 'none'}\n`,
  );
  return EXIT.INVALID_INPUT;
}
