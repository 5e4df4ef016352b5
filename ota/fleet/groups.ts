/**
 * Device groups for `--group NAME`: a JSON file the admin keeps next to
 * their fleet tooling (`--groups FILE`, else $PGW_FLEET_GROUPS):
 *
 *   { "groups": { "wave-1": ["pgw-0001", "pgw-0002"], "riverside-pcn": [...] } }
 *
 * (a bare `{ "wave-1": [...] }` works too). The group `all` needs no file:
 * every box with a retained status or ota/reported on the broker.
 */
import { readFile } from 'node:fs/promises';
import type { MqttClient } from 'mqtt';
import { PgwError } from '../../firmware/src/util/errors.js';
import { FLEET_REPORTED_FILTER, FLEET_STATUS_FILTER, deviceIdOf } from '../protocol/topics.js';

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isDeviceId(s: string): boolean {
  return DEVICE_ID.test(s);
}

export async function loadGroup(file: string, name: string): Promise<string[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new PgwError('PGW_E_CONFIG_READ', `cannot read the groups file ${file}: ${(e as Error).message}`);
  }
  const root = (json as { groups?: unknown }).groups ?? json;
  if (typeof root !== 'object' || root === null) throw new PgwError('PGW_E_CONFIG_INVALID', `${file}: expected { "groups": { NAME: [device ids] } }`);
  const members = (root as Record<string, unknown>)[name];
  if (members === undefined) throw new PgwError('PGW_E_CONFIG_INVALID', `${file} has no group "${name}"`);
  if (!Array.isArray(members) || !members.every((m) => typeof m === 'string' && isDeviceId(m)))
    throw new PgwError('PGW_E_CONFIG_INVALID', `${file}: group "${name}" must be a list of device ids`);
  return [...new Set(members as string[])];
}

/** Every device with a retained status or ota/reported, collected until `settleMs` pass without a new one. */
export async function discoverDevices(client: MqttClient, settleMs = 500, maxMs = 5_000): Promise<string[]> {
  const seen = new Set<string>();
  let last = Date.now();
  const onMessage = (topic: string): void => {
    const id = deviceIdOf(topic);
    if (id && !seen.has(id)) {
      seen.add(id);
      last = Date.now();
    }
  };
  client.on('message', onMessage);
  const filters = [FLEET_STATUS_FILTER, FLEET_REPORTED_FILTER];
  await client.subscribeAsync(filters, { qos: 1 });
  const end = Date.now() + maxMs;
  last = Date.now();
  while (Date.now() < end && Date.now() - last < settleMs) await new Promise((r) => setTimeout(r, 20));
  client.off('message', onMessage);
  await client.unsubscribeAsync(filters).catch(() => undefined);
  return [...seen].sort();
}
