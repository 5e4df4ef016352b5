/**
 * The cloud sync service (issue 3): one MQTT 5 connection, and over it
 *
 *   config/desired  ──► ConfigReconciler ──► PracticeApplier (composition root)
 *   config/reported ◄── reports (retained), republished on every connect
 *   status          ◄── StatusPublisher (retained, Will {"online":false})
 *   telemetry       ◄── TelemetrySource every telemetryIntervalSeconds
 *   events          ◄── EventPublisher (publishEvent, config outcomes, alarms)
 *   cdr             ◄── Outbox + OutboxDrainer (recordCall)
 *   cmd/{name}      ──► CommandRouter ──► Response Topic
 *
 * The gateway builds it with createCloudSync() when `device.cloud` is set,
 * calls start() (which never waits for the broker: a box must run without
 * it) and stop() on SIGTERM. It never imports the telephony core; it sees
 * the gateway only through the interfaces in ports.ts.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { CloudConfig } from '../config/device-schema.js';
import { redactSecrets } from '../config/redact.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { PgwError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { CommandError, CommandRouter } from './commands.js';
import { EventPublisher } from './event-publisher.js';
import { MqttConnection } from './mqtt-connection.js';
import type { InboundMessage } from './mqtt-connection.js';
import { Outbox } from './outbox.js';
import type { OutboxAlarm } from './outbox.js';
import { OutboxDrainer } from './outbox-drainer.js';
import type { CallRecord, CallRecordInput, GatewayEvent, OfflineStatusPayload, ReportedConfig, TelemetryPayload, TelemetrySample } from './payloads.js';
import type { DiagnosticsSource, FailoverTester, LastKnownGoodStore, PracticeApplier, StatusSource, TelemetrySource } from './ports.js';
import { ConfigReconciler } from './reconciler.js';
import { StatusPublisher } from './status-publisher.js';
import { SystemTelemetry } from './system-telemetry.js';
import { deviceTopics } from './topics.js';
import type { DeviceTopics } from './topics.js';

/** The Will, exactly as CONTRACT.md has it. */
export const WILL_PAYLOAD = '{"online":false}';

/** Where the call-record outbox lives under the data dir. */
export const CDR_OUTBOX_FILE = join('sync', 'cdr-outbox.jsonl');

export interface CloudSyncOptions {
  deviceId: string;
  /** `device.cloud`, validated (defaults filled). */
  cloud: CloudConfig;
  /** The gateway's data dir (`--data`); the outbox goes in `sync/` under it. */
  dataDir: string;
  applier: PracticeApplier;
  lastKnownGood: LastKnownGoodStore;
  status: StatusSource;
  /** Default: SystemTelemetry (systeminformation). */
  telemetry?: TelemetrySource;
  failover?: FailoverTester;
  diagnostics?: DiagnosticsSource;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** Apply the last known good config at start when nothing runs yet. Default true. */
  restoreOnStart?: boolean;
  applyTimeoutMs?: number;
  outbox?: { minFreeBytes?: number; window?: number; compactBytes?: number };
  /** A connection up this long resets the reconnect backoff. Default 10 s. */
  stableAfterMs?: number;
  /** Status change coalescing. Default 200 ms. */
  statusCoalesceMs?: number;
  /** How mqtt.js clients are made (tests). */
  connectFn?: (url: string, options: IClientOptions) => MqttClient;
}

export interface CloudSync {
  readonly topics: DeviceTopics;
  readonly connection: MqttConnection;
  readonly reconciler: ConfigReconciler;
  /** Opens the outbox, runs the last known good config if nothing runs, starts connecting. */
  start(): Promise<void>;
  /** Publishes an offline status, disconnects cleanly, closes the outbox. */
  stop(): Promise<void>;
  /** A mode change, alarm or call event for `events`. */
  publishEvent(event: GatewayEvent): void;
  /** A finished call: resolves once the record is in the outbox (on disk), with its id. */
  recordCall(record: CallRecordInput): Promise<CallRecord>;
  /** Something `status` shows may have changed (mode, uplinks, registrations, calls). */
  statusChanged(): void;
  /** What `cmd/get-diagnostics` answers. */
  diagnostics(): Promise<Record<string, unknown>>;
  /** Resolves once every call record so far has been acknowledged by the broker. */
  whenCdrsDrained(): Promise<void>;
}

export function createCloudSync(options: CloudSyncOptions): CloudSync {
  return new CloudSyncService(options);
}

class CloudSyncService implements CloudSync {
  readonly topics: DeviceTopics;
  readonly connection: MqttConnection;
  readonly reconciler: ConfigReconciler;
  private readonly log: Logger;
  private readonly status: StatusPublisher;
  private readonly events: EventPublisher;
  private readonly commands: CommandRouter;
  private readonly telemetrySource: TelemetrySource;
  private outbox: Outbox | undefined;
  private drainer: OutboxDrainer | undefined;
  private telemetryTimer: TimerHandle | undefined;
  private lastTelemetry: TelemetrySample | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private readonly unsubscribers: Array<() => void> = [];

  constructor(private readonly options: CloudSyncOptions) {
    if (!/^[^/+#\s]+$/.test(options.deviceId))
      throw new PgwError('PGW_E_CONFIG_INVALID', `device id ${JSON.stringify(options.deviceId)} cannot be an MQTT topic segment`);
    this.log = options.logger.child({ component: 'sync' });
    this.topics = deviceTopics(options.deviceId);
    const clock = options.clock;
    this.connection = new MqttConnection({
      mqtt: options.cloud.mqtt,
      clientId: options.deviceId,
      will: { topic: this.topics.status, payload: WILL_PAYLOAD },
      clock,
      logger: this.log,
      random: options.random,
      stableAfterMs: options.stableAfterMs,
      connectFn: options.connectFn,
    });
    this.events = new EventPublisher({
      deviceId: options.deviceId,
      clock,
      logger: this.log,
      publish: (p) => this.connection.publish(this.topics.events, JSON.stringify(p), { qos: 1 }),
    });
    this.reconciler = new ConfigReconciler({
      applier: options.applier,
      store: options.lastKnownGood,
      clock,
      logger: this.log,
      applyTimeoutMs: options.applyTimeoutMs,
      onReport: (r) => this.publishReported(r),
      onEvent: (e) => this.events.publish(e),
    });
    this.status = new StatusPublisher({
      deviceId: options.deviceId,
      source: options.status,
      clock,
      logger: this.log,
      intervalMs: options.cloud.statusIntervalSeconds * 1000,
      coalesceMs: options.statusCoalesceMs,
      publish: (p) => this.connection.publish(this.topics.status, JSON.stringify(p), { qos: 1, retain: true }),
    });
    this.commands = new CommandRouter({
      clock,
      logger: this.log,
      publish: (topic, payload, opts) => this.connection.publish(topic, payload, opts),
    });
    this.telemetrySource = options.telemetry ?? new SystemTelemetry();
    this.registerCommands();
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    const onAlarm = (a: OutboxAlarm): void => this.events.publish(a);
    this.outbox = await Outbox.open({
      file: join(this.options.dataDir, CDR_OUTBOX_FILE),
      clock: this.options.clock,
      logger: this.log,
      minFreeBytes: this.options.outbox?.minFreeBytes,
      compactBytes: this.options.outbox?.compactBytes,
      onAlarm,
    });
    const outbox = this.outbox;
    this.drainer = new OutboxDrainer({
      outbox,
      clock: this.options.clock,
      logger: this.log,
      window: this.options.outbox?.window,
      onAlarm,
      publish: (entry) =>
        this.connection.publish(this.topics.cdr, entry.body, { qos: 1, properties: { contentType: 'application/json' } }),
    });
    if (this.options.restoreOnStart ?? true) await this.reconciler.restore();
    if (this.isStopped()) {
      // stop() came while the outbox was opening or the last known good was being applied.
      this.drainer.stop();
      await outbox.close();
      return;
    }
    const drainer = this.drainer;
    this.unsubscribers.push(
      this.connection.on('connected', (info) => {
        this.status.setOnline();
        const report = this.reconciler.lastReport();
        if (report) this.publishReported(report);
        this.events.setOnline();
        drainer.setOnline(info.receiveMaximum);
        // Subscribing again on every connect (session present or not) makes the broker
        // send the retained desired again (Retain Handling 0, MQTT 5 §3.8.3.1).
        this.connection
          .subscribe({ [this.topics.configDesired]: { qos: 1, rh: 0 }, [this.topics.commandFilter]: { qos: 1, rh: 0 } })
          .catch((e: unknown) => this.log.error({ err: (e as Error).message }, 'subscribe failed'));
      }),
      this.connection.on('disconnected', () => {
        this.status.setOffline();
        this.events.setOffline();
        drainer.setOffline();
      }),
      this.connection.on('message', (m) => this.onMessage(m)),
    );
    this.scheduleTelemetry();
    this.state = 'running';
    this.connection.start();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    this.telemetryTimer?.cancel();
    if (wasRunning && this.connection.connected) {
      // A clean DISCONNECT drops the Will, so say it ourselves (bounded: SIGTERM has 5 s in all).
      const offlineStatus: OfflineStatusPayload = { online: false, reason: 'stopped', at: this.iso() };
      await this.bounded(this.connection.publish(this.topics.status, JSON.stringify(offlineStatus), { qos: 1, retain: true }), 1_000);
    }
    this.status.setOffline();
    this.events.setOffline();
    this.drainer?.stop();
    for (const u of this.unsubscribers.splice(0)) u();
    await this.connection.stop();
    await this.outbox?.close();
    this.log.info('cloud sync stopped');
  }

  publishEvent(event: GatewayEvent): void {
    this.events.publish(event);
    if (event.type === 'mode') this.status.changed();
  }

  async recordCall(record: CallRecordInput): Promise<CallRecord> {
    const outbox = this.outbox;
    if (!outbox || this.state !== 'running') throw new PgwError('PGW_E_SYNC_OUTBOX', 'cloud sync is not running');
    const full: CallRecord = { ...record, id: record.id ?? randomUUID() };
    await outbox.append(full.id, JSON.stringify(full));
    return full;
  }

  statusChanged(): void {
    this.status.changed();
  }

  whenCdrsDrained(): Promise<void> {
    return this.drainer?.whenDrained() ?? Promise.resolve();
  }

  async diagnostics(): Promise<Record<string, unknown>> {
    let status: unknown = null;
    try {
      status = await this.options.status.status();
    } catch (e) {
      status = { error: (e as Error).message };
    }
    let extra: unknown = undefined;
    if (this.options.diagnostics) {
      try {
        extra = await this.options.diagnostics.diagnostics();
      } catch (e) {
        extra = { error: (e as Error).message };
      }
    }
    const mem = process.memoryUsage();
    return redactSecrets({
      deviceId: this.options.deviceId,
      at: this.iso(),
      status,
      connection: this.connection.stats(),
      config: {
        appliedVersion: this.options.applier.current()?.version ?? null,
        lastReport: this.reconciler.lastReport() ?? null,
        documentsHandled: this.reconciler.handled,
      },
      outbox: { ...(this.outbox?.stats() ?? {}), drainer: this.drainer?.stats() ?? null },
      events: this.events.stats(),
      statusPublished: this.status.published,
      telemetry: this.lastTelemetry ?? null,
      commands: this.commands.names(),
      process: { uptimeSeconds: Math.round(process.uptime()), rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, node: process.version },
      ...(extra === undefined ? {} : { gateway: extra }),
    });
  }

  // ------------------------------------------------------------------ internals

  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private iso(): string {
    return new Date(this.options.clock.now()).toISOString();
  }

  private publishReported(report: ReportedConfig): void {
    if (!this.connection.connected) return; // sent on the next connect (lastReport)
    this.connection
      .publish(this.topics.configReported, JSON.stringify(report), { qos: 1, retain: true })
      .catch((e: unknown) => this.log.debug({ err: (e as Error).message }, 'config/reported not published; will be on reconnect'));
  }

  private onMessage(msg: InboundMessage): void {
    if (msg.topic === this.topics.configDesired) {
      this.reconciler.submit(msg.payload);
      return;
    }
    const name = this.topics.commandName(msg.topic);
    if (name !== undefined) {
      void this.commands.handle(name, msg);
      return;
    }
    this.log.debug({ topic: msg.topic }, 'message on an unexpected topic ignored');
  }

  private registerCommands(): void {
    this.commands.register('reload-config', async () => {
      const report = await this.reconciler.reloadLast();
      if (!report) throw new CommandError('not-available', 'no config/desired has been received since the box started');
      return report;
    });
    this.commands.register('get-diagnostics', () => this.diagnostics());
    this.commands.register('failover-test', async (params) => {
      const f = this.options.failover;
      if (!f || !f.available()) throw new CommandError('not-available', 'failover test is not available: no uplinks to fail over between');
      return f.run(params);
    });
  }

  private scheduleTelemetry(): void {
    const ms = this.options.cloud.telemetryIntervalSeconds * 1000;
    this.telemetryTimer = this.options.clock.setTimer(ms, () => {
      void this.publishTelemetry().finally(() => {
        if (this.state === 'running') this.scheduleTelemetry();
      });
    });
  }

  private async publishTelemetry(): Promise<void> {
    // Not held while offline: health figures are only worth having live.
    if (!this.connection.connected) return;
    try {
      const sample = await this.telemetrySource.sample();
      this.lastTelemetry = sample;
      const payload: TelemetryPayload = {
        ...sample,
        at: this.iso(),
        deviceId: this.options.deviceId,
        outbox: { pending: this.outbox?.size ?? 0 },
      };
      await this.connection.publish(this.topics.telemetry, JSON.stringify(payload), { qos: 1 });
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'telemetry not published');
    }
  }

  private bounded(p: Promise<unknown>, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = this.options.clock.setTimer(ms, resolve);
      p.then(
        () => {
          t.cancel();
          resolve();
        },
        () => {
          t.cancel();
          resolve();
        },
      );
    });
  }
}
