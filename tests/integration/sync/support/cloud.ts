/**
 * The cloud side of the sync tests: an MQTT 5 client that records what it
 * receives and can send desired configs and commands; and a box (the sync
 * layer in this process, with a fake applier and the real PracticeStore).
 */
import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import { MqttSchema } from '../../../../firmware/src/config/device-schema.js';
import type { CloudConfig } from '../../../../firmware/src/config/device-schema.js';
import { PracticeStore } from '../../../../firmware/src/store/practice-store.js';
import { SystemClock } from '../../../../firmware/src/util/clock.js';
import { createLogger } from '../../../../firmware/src/util/logger.js';
import type { LogLevel, Logger } from '../../../../firmware/src/util/logger.js';
import { createCloudSync } from '../../../../firmware/src/sync/cloud-sync.js';
import type { CloudSync, CloudSyncOptions } from '../../../../firmware/src/sync/cloud-sync.js';
import { noDelay } from '../../../../firmware/src/sync/mqtt-connection.js';
import { lastKnownGoodFromPracticeStore } from '../../../../firmware/src/sync/last-known-good.js';
import type { CommandReply, GatewayStatus } from '../../../../firmware/src/sync/payloads.js';
import { deviceTopics } from '../../../../firmware/src/sync/topics.js';
import { waitUntil } from '../../../support/proc.js';
import { FakeApplier } from '../../../unit/sync/support/practice.js';

export interface Received {
  topic: string;
  text: string;
  json: unknown;
  retain: boolean;
  correlationData?: Buffer;
  /** Date.now() when it arrived. */
  at: number;
}

export class CloudClient {
  readonly messages: Received[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString('utf8');
      let json: unknown = undefined;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.messages.push({ topic, text, json, retain: packet.retain, correlationData: packet.properties?.correlationData, at: Date.now() });
    });
  }

  /**
   * `persistent`: clean start false with a session expiry and mqtt.js
   * reconnects, so it keeps its subscriptions and queued messages across a
   * broker restart, like the cloud's consumer would.
   */
  static async connect(url: string, opts: { persistent?: boolean; clientId?: string } = {}): Promise<CloudClient> {
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: opts.clientId ?? `cloud-${randomBytes(4).toString('hex')}`,
      clean: !opts.persistent,
      reconnectPeriod: opts.persistent ? 200 : 0,
      connectTimeout: 5_000,
      properties: opts.persistent ? { sessionExpiryInterval: 3600 } : undefined,
    };
    const client = await connectAsync(url, options);
    // Like the box (mqtt-connection.ts): no Nagle delay on small publishes.
    noDelay(client);
    return new CloudClient(client);
  }

  async subscribe(filter: string | string[]): Promise<void> {
    await this.client.subscribeAsync(filter, { qos: 1 });
  }

  async publish(topic: string, payload: unknown, opts: IClientPublishOptions = { qos: 1 }): Promise<void> {
    await this.client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), opts);
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** The first message so far or to come that matches. */
  async waitFor(pred: (m: Received) => boolean, what: string, timeoutMs = 10_000): Promise<Received> {
    return waitUntil(() => this.messages.find(pred), { timeoutMs, intervalMs: 10, what });
  }

  /** MQTT 5 request/response to `cmd/{name}`. */
  async request(deviceId: string, name: string, params?: unknown, timeoutMs = 10_000): Promise<CommandReply> {
    const replyTopic = `cloud/replies/${randomBytes(4).toString('hex')}`;
    const corr = randomBytes(8);
    await this.subscribe(replyTopic);
    await this.client.publishAsync(deviceTopics(deviceId).command(name), params === undefined ? '' : JSON.stringify(params), {
      qos: 1,
      properties: { responseTopic: replyTopic, correlationData: corr },
    });
    const m = await this.waitFor((x) => x.topic === replyTopic && !!x.correlationData?.equals(corr), `reply to ${name}`, timeoutMs);
    return m.json as CommandReply;
  }

  async end(): Promise<void> {
    await this.client.endAsync(true).catch(() => undefined);
  }
}

export function testLogger(): Logger {
  const level = (process.env.PGW_TEST_SYNC_LOG ?? 'silent') as LogLevel;
  return createLogger({ level });
}

/** device.cloud for tests: fast reconnects, short intervals. */
export function cloudConfig(url: string, over: Partial<{ statusIntervalSeconds: number; telemetryIntervalSeconds: number }> = {}): CloudConfig {
  return {
    mqtt: MqttSchema.parse({ url, keepaliveSeconds: 5, reconnect: { minMs: 100, maxMs: 1000 } }),
    statusIntervalSeconds: over.statusIntervalSeconds ?? 60,
    telemetryIntervalSeconds: over.telemetryIntervalSeconds ?? 3600,
  };
}

export interface TestBox {
  sync: CloudSync;
  applier: FakeApplier;
  store: PracticeStore;
  status: GatewayStatus;
  stop(): Promise<void>;
}

/** The sync layer in this process, as the gateway would build it, with a recording applier. */
export async function startBox(o: {
  url: string;
  deviceId: string;
  dataDir: string;
  over?: Partial<CloudSyncOptions>;
  cloud?: Partial<{ statusIntervalSeconds: number; telemetryIntervalSeconds: number }>;
}): Promise<TestBox> {
  const logger = testLogger();
  const applier = new FakeApplier();
  const store = new PracticeStore({ dataDir: o.dataDir, logger });
  const status: GatewayStatus = {
    mode: 'normal',
    configVersion: null,
    uplinks: [],
    registrations: 0,
    activeCalls: 0,
    firmware: { version: '0.1.0', slot: 'a' },
  };
  const sync = createCloudSync({
    deviceId: o.deviceId,
    cloud: cloudConfig(o.url, o.cloud),
    dataDir: o.dataDir,
    applier,
    lastKnownGood: lastKnownGoodFromPracticeStore(store),
    status: { status: () => ({ ...status, configVersion: applier.current()?.version ?? null }) },
    clock: new SystemClock(),
    logger,
    stableAfterMs: 500,
    ...o.over,
  });
  await sync.start();
  return {
    sync,
    applier,
    store,
    status,
    stop: async () => {
      await sync.stop();
      await store.close();
    },
  };
}
