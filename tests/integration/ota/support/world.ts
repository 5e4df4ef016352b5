/**
 * The world of an OTA integration test: a private mosquitto, a bundle
 * server on 127.0.0.1, a fleet client (the admin's side) that publishes
 * targets and watches ota/reported, and simulated boxes whose agents talk
 * to the broker through a real mqtt.js client.
 */
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';
import { SystemClock } from '../../../../firmware/src/util/clock.js';
import { mqttJsOtaLink } from '../../../../ota/agent/mqtt-link.js';
import { connectFleet, publishTarget, watchReported } from '../../../../ota/fleet/mqtt.js';
import type { OtaDesired } from '../../../../ota/protocol/desired.js';
import type { OtaReported } from '../../../../ota/protocol/reported.js';
import { startBundleServer } from '../../../unit/ota/support/bundle-server.js';
import type { BundleServer } from '../../../unit/ota/support/bundle-server.js';
import { tempDir } from '../../../unit/ota/support/bundles.js';
import type { TestKeys } from '../../../unit/ota/support/bundles.js';
import { SimBox } from '../../../unit/ota/support/sim-box.js';
import type { SimBoxOptions } from '../../../unit/ota/support/sim-box.js';
import { startMosquitto } from './mosquitto.js';
import type { Mosquitto } from './mosquitto.js';

/** Real-time tuning short enough for tests. */
export const FAST_TUNING: SimBoxOptions['tuning'] = {
  soakMs: 400,
  healthIntervalMs: 100,
  trialTimeoutMs: 1_500,
  progressIntervalMs: 100,
  callPollMs: 50,
  reserveBytes: 0,
  reportBeforeRebootMs: 1_000,
  download: { minBackoffMs: 50, maxBackoffMs: 400, checkpointBytes: 128 * 1024, stallTimeoutMs: 5_000 },
};

export interface World {
  broker: Mosquitto;
  fleet: MqttClient;
  reports: Map<string, OtaReported[]>;
  box(name: string, keys: TestKeys, extra?: Partial<SimBoxOptions>): Promise<SimBox>;
  publish(deviceId: string, desired: OtaDesired): Promise<void>;
  waitFor(deviceId: string, pred: (r: OtaReported) => boolean, what: string, timeoutMs?: number): Promise<OtaReported>;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const broker = await startMosquitto();
  const dirs: Array<{ remove: () => Promise<void> }> = [];
  const boxes: SimBox[] = [];
  const fleet = await connectFleet(broker.url);
  const reports = new Map<string, OtaReported[]>();
  const stopWatch = await watchReported(fleet, {
    onUpdate: (id, r) => {
      const list = reports.get(id) ?? [];
      list.push(r);
      reports.set(id, list);
    },
  });
  const world: World = {
    broker,
    fleet,
    reports,
    async box(name, keys, extra = {}) {
      const t = await tempDir(`pgw-ota-it-${name}-`);
      dirs.push(t);
      const clients: MqttClient[] = [];
      const box = new SimBox({
        root: t.path,
        clock: new SystemClock(),
        trustedKeys: [keys.trusted],
        tuning: FAST_TUNING,
        link: async () => {
          const client = await connectAsync(broker.url, { protocolVersion: 5, clientId: `${name}-${clients.length}`, clean: true, reconnectPeriod: 200 });
          clients.push(client);
          return { link: mqttJsOtaLink(client, name), close: () => client.endAsync(true) };
        },
        ...extra,
        deviceId: name,
      });
      await box.init();
      boxes.push(box);
      return box;
    },
    publish: (deviceId, desired) => publishTarget(fleet, [deviceId], desired),
    async waitFor(deviceId, pred, what, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = (reports.get(deviceId) ?? []).find(pred);
        if (hit) return hit;
        if (Date.now() > end) {
          const seen = (reports.get(deviceId) ?? []).map((r) => `${r.state}${r.reason ? `(${r.reason.code})` : ''}`);
          throw new Error(`timed out waiting for ${what} from ${deviceId}; saw: ${[...new Set(seen)].join(' ')}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      for (const b of boxes) await b.stopAgent().catch(() => undefined);
      await stopWatch().catch(() => undefined);
      await fleet.endAsync(true).catch(() => undefined);
      await broker.stop();
      for (const d of dirs) await d.remove();
    },
  };
  return world;
}

export { startBundleServer };
export type { BundleServer };
