/**
 * The fleet tools' MQTT side (an admin's machine, not a box): connect with
 * MQTT 5, publish a retained target per device, and collect every box's
 * retained ota/reported.
 */
import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { OtaDesired } from '../protocol/desired.js';
import type { OtaReported } from '../protocol/reported.js';
import { FLEET_REPORTED_FILTER, deviceIdOf, otaTopics } from '../protocol/topics.js';

export async function connectFleet(url: string, options: Partial<IClientOptions> = {}): Promise<MqttClient> {
  // allowRetries false: a refused or timed-out connect rejects instead of retrying quietly.
  return connectAsync(
    url,
    {
      protocolVersion: 5,
      clientId: `pgw-fleet-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...options,
    },
    false,
  );
}

/** Publishes the target, retained (QoS 1), to each device; resolves when the broker has acknowledged all. */
export async function publishTarget(client: MqttClient, deviceIds: readonly string[], desired: OtaDesired): Promise<void> {
  const payload = JSON.stringify(desired);
  await Promise.all(deviceIds.map((id) => client.publishAsync(otaTopics(id).desired, payload, { qos: 1, retain: true })));
}

/** Clears the retained target of each device (an empty retained payload, MQTT 5 §3.3.1.3). */
export async function clearTarget(client: MqttClient, deviceIds: readonly string[]): Promise<void> {
  await Promise.all(deviceIds.map((id) => client.publishAsync(otaTopics(id).desired, '', { qos: 1, retain: true })));
}

export interface WatchOptions {
  /** Only these devices (default: every device that reports). */
  deviceIds?: readonly string[];
  onUpdate: (deviceId: string, report: OtaReported) => void;
}

/** Subscribes to every box's ota/reported (the retained ones arrive first); returns an unsubscribe function. */
export async function watchReported(client: MqttClient, o: WatchOptions): Promise<() => Promise<void>> {
  const want = o.deviceIds ? new Set(o.deviceIds) : undefined;
  const onMessage = (topic: string, payload: Buffer): void => {
    const id = deviceIdOf(topic);
    if (!id || !topic.endsWith('/ota/reported') || (want && !want.has(id)) || payload.length === 0) return;
    try {
      o.onUpdate(id, JSON.parse(payload.toString('utf8')) as OtaReported);
    } catch {
      // A box that published garbage is not a reason to stop watching the others.
    }
  };
  client.on('message', onMessage);
  const filters = want ? [...want].map((id) => otaTopics(id).reported) : [FLEET_REPORTED_FILTER];
  await client.subscribeAsync(filters, { qos: 1 });
  return async () => {
    client.off('message', onMessage);
    await client.unsubscribeAsync(filters).catch(() => undefined);
  };
}

/**
 * Every box's retained report: waits until no new box has reported for
 * `settleMs` (retained messages arrive in a burst after SUBACK), at most `maxMs`.
 */
export async function collectReported(
  client: MqttClient,
  o: { deviceIds?: readonly string[]; settleMs?: number; maxMs?: number } = {},
): Promise<Map<string, OtaReported>> {
  const seen = new Map<string, OtaReported>();
  let last = Date.now();
  const stop = await watchReported(client, {
    deviceIds: o.deviceIds,
    onUpdate: (id, r) => {
      seen.set(id, r);
      last = Date.now();
    },
  });
  const end = Date.now() + (o.maxMs ?? 5_000);
  const settle = o.settleMs ?? 300;
  last = Date.now();
  while (Date.now() < end && Date.now() - last < settle && !(o.deviceIds && o.deviceIds.every((id) => seen.has(id)))) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await stop();
  return seen;
}
