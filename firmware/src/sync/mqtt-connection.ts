/**
 * The box's one MQTT 5 connection to the cloud broker (issue 3,
 * "Connection"), over mqtt.js but with reconnection owned here:
 *
 *            start()                CONNACK 0
 *   idle ───────────► connecting ─────────────► connected
 *                       │   ▲                      │
 *      refused / error  │   │ backoff timer        │ socket closed, keep-alive lost,
 *      / closed         ▼   │                      │ DISCONNECT from the broker
 *                      waiting ◄───────────────────┘
 *
 *   idle | connecting | connected | waiting ──stop()──► stopped
 *
 * - mqtt.js's fixed `reconnectPeriod` is turned off (0); each attempt is a
 *   fresh mqtt.js client made after a capped exponential backoff with jitter
 *   (backoff.ts) on the injected clock, reset once a connection has stayed
 *   up `stableAfterMs`.
 * - Clean Start is false with a Session Expiry Interval (MQTT 5 §3.1.2.4,
 *   §3.1.2.11.2), so the broker keeps the box's subscriptions and queues the
 *   QoS 1 messages sent to it while it was away (commands) for when it returns.
 * - The Will (MQTT 5 §3.1.3.2) is the retained `status` `{"online":false}`,
 *   sent by the broker when the box vanishes without a DISCONNECT.
 * - TLS with the cloud's CA and the per-device client certificate when the
 *   config names them (mqtts:// or wss://), or username and password; the
 *   files are read again on every attempt, so renewed certificates are used
 *   without a restart.
 *
 * publish() resolves on the broker's PUBACK for QoS 1 (on the write for
 * QoS 0) and rejects with PGW_E_SYNC_OFFLINE when the box is not connected
 * or the connection closes first: nothing is queued inside mqtt.js, so the
 * callers (the outbox above all) alone decide what is sent again and when.
 */
import { readFile } from 'node:fs/promises';
import { connect as mqttConnect } from 'mqtt';
import type { IClientOptions, IClientPublishOptions, IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/device-schema.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { PgwError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { Backoff } from './backoff.js';
import { StateMachine } from '../util/state-machine.js';
import type { TransitionTable } from '../util/state-machine.js';
import { Listeners } from './listeners.js';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped';

export const CONNECTION_TRANSITIONS: TransitionTable<ConnectionState> = {
  idle: ['connecting', 'stopped'],
  connecting: ['connected', 'waiting', 'stopped'],
  connected: ['waiting', 'stopped'],
  waiting: ['connecting', 'stopped'],
  stopped: [],
};

export interface InboundMessage {
  topic: string;
  payload: Buffer;
  /** Set when the broker delivered it from its retained store (on subscribe). */
  retain: boolean;
  /** MQTT 5 request/response (§4.10). */
  responseTopic?: string;
  correlationData?: Buffer;
}

export interface ConnectedInfo {
  sessionPresent: boolean;
  /** How many QoS 1 publishes the broker accepts in flight (MQTT 5 §3.2.2.3.3); 65535 when unsaid. */
  receiveMaximum: number;
}

export type ConnectionEvents = {
  connected: (info: ConnectedInfo) => void;
  disconnected: (info: { reason: string }) => void;
  message: (msg: InboundMessage) => void;
};

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
  properties?: IClientPublishOptions['properties'];
}

export interface SubscribeRequest {
  qos: 0 | 1;
  /** Retain Handling (MQTT 5 §3.8.3.1): 0 sends retained messages on every subscribe. */
  rh?: 0 | 1 | 2;
}

export interface ConnectionStats {
  state: ConnectionState;
  connects: number;
  disconnects: number;
  failedAttempts: number;
  lastError: string | null;
  connectedSince: string | null;
  nextAttemptInMs: number | null;
}

export interface MqttConnectionOptions {
  mqtt: MqttConfig;
  /** Default: mqtt.clientId, else the device id the caller passes here. */
  clientId: string;
  will: { topic: string; payload: string };
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** A connection that stays up this long resets the backoff. Default 10 s. */
  stableAfterMs?: number;
  /** Give up on an attempt without a CONNACK after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** How the mqtt.js client is made (tests may wrap it). */
  connectFn?: (url: string, options: IClientOptions) => MqttClient;
}

const DEFAULT_STABLE_AFTER_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const GRACEFUL_END_MS = 2_000;

export function offline(message: string): PgwError {
  return new PgwError('PGW_E_SYNC_OFFLINE', message);
}

export class MqttConnection {
  private readonly sm: StateMachine<ConnectionState>;
  private readonly backoff: Backoff;
  private readonly listeners: Listeners<ConnectionEvents>;
  private readonly log: Logger;
  private client: MqttClient | undefined;
  private retryTimer: TimerHandle | undefined;
  private retryDue: number | undefined;
  private stableTimer: TimerHandle | undefined;
  private readonly inflight = new Set<(e: Error) => void>();
  private connects = 0;
  private disconnects = 0;
  private failedAttempts = 0;
  private lastError: string | null = null;
  private connectedSince: number | null = null;

  constructor(private readonly options: MqttConnectionOptions) {
    this.log = options.logger;
    this.sm = new StateMachine('mqtt', 'idle', CONNECTION_TRANSITIONS, this.log, 'debug');
    this.backoff = new Backoff({ minMs: options.mqtt.reconnect.minMs, maxMs: options.mqtt.reconnect.maxMs, random: options.random });
    this.listeners = new Listeners((event, err) => this.log.error({ event, err: (err as Error).message }, 'connection listener failed'));
  }

  get state(): ConnectionState {
    return this.sm.state;
  }

  get connected(): boolean {
    return this.sm.state === 'connected';
  }

  on<K extends keyof ConnectionEvents>(event: K, fn: ConnectionEvents[K]): () => void {
    return this.listeners.on(event, fn);
  }

  stats(): ConnectionStats {
    return {
      state: this.sm.state,
      connects: this.connects,
      disconnects: this.disconnects,
      failedAttempts: this.failedAttempts,
      lastError: this.lastError,
      connectedSince: this.connectedSince === null ? null : new Date(this.connectedSince).toISOString(),
      nextAttemptInMs: this.retryDue === undefined ? null : Math.max(0, this.retryDue - this.options.clock.monotonic()),
    };
  }

  /** Starts connecting; never waits for the broker (a box must run without it). */
  start(): void {
    if (this.sm.state !== 'idle') return;
    void this.attempt();
  }

  /**
   * Disconnects cleanly (normal DISCONNECT: the broker drops the Will, so the
   * caller publishes its own offline status first) and stops reconnecting.
   */
  async stop(): Promise<void> {
    if (this.sm.state === 'stopped') return;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    this.retryDue = undefined;
    this.stableTimer?.cancel();
    const client = this.client;
    const wasConnected = this.sm.state === 'connected';
    this.client = undefined;
    this.sm.transition('stopped', 'stop()');
    this.failInflight('the connection is stopping');
    if (client) await this.endClient(client, wasConnected);
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions = {}): Promise<void> {
    const client = this.client;
    if (!client || this.sm.state !== 'connected') return Promise.reject(offline(`not connected (${this.sm.state})`));
    return new Promise<void>((resolve, reject) => {
      const fail = (e: Error): void => reject(e);
      this.inflight.add(fail);
      client.publish(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false, properties: opts.properties }, (err) => {
        this.inflight.delete(fail);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  async subscribe(subs: Record<string, SubscribeRequest>): Promise<void> {
    const client = this.client;
    if (!client || this.sm.state !== 'connected') throw offline(`not connected (${this.sm.state})`);
    const map: Record<string, { qos: 0 | 1; rh: number; nl: boolean; rap: boolean }> = {};
    for (const [topic, s] of Object.entries(subs)) map[topic] = { qos: s.qos, rh: s.rh ?? 0, nl: false, rap: false };
    const granted = await client.subscribeAsync(map);
    const refused = granted.filter((g) => g.qos >= 0x80);
    if (refused.length > 0)
      throw new PgwError('PGW_E_SYNC_OFFLINE', `the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')}`, {
        context: { refused },
      });
  }

  private async attempt(): Promise<void> {
    if (this.sm.state === 'stopped') return;
    this.sm.transition('connecting');
    const cfg = this.options.mqtt;
    let options: IClientOptions;
    try {
      options = await this.clientOptions();
    } catch (e) {
      this.lastError = (e as Error).message;
      this.log.error({ err: this.lastError }, 'cannot prepare the MQTT connection');
      if (this.sm.state === 'connecting') this.scheduleRetry();
      return;
    }
    if (this.sm.state !== 'connecting') return; // stopped while reading files
    this.log.info({ url: redactUrl(cfg.url), clientId: options.clientId, attempt: this.backoff.attempts + 1 }, 'connecting to the cloud broker');
    const client = (this.options.connectFn ?? mqttConnect)(cfg.url, options);
    this.client = client;
    noDelay(client);
    client.on('connect', (connack: IConnackPacket) => {
      if (this.client === client) this.onConnected(connack);
    });
    client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
      if (this.client !== client) return;
      const props = packet.properties;
      this.listeners.emit('message', {
        topic,
        payload,
        retain: packet.retain,
        responseTopic: props?.responseTopic,
        correlationData: props?.correlationData,
      });
    });
    client.on('error', (err: Error) => {
      this.lastError = err.message;
      this.log.warn({ err: err.message }, 'MQTT connection error');
    });
    client.on('disconnect', (packet) => {
      this.lastError = `DISCONNECT from the broker, reason ${packet.reasonCode ?? 0}`;
      this.log.warn({ reasonCode: packet.reasonCode }, 'the broker sent DISCONNECT');
    });
    client.on('close', () => {
      if (this.client === client) this.onClosed(client);
    });
  }

  private async clientOptions(): Promise<IClientOptions> {
    const cfg = this.options.mqtt;
    const [ca, cert, key] = await Promise.all([cfg.ca, cfg.cert, cfg.key].map((p) => (p ? readFile(p) : undefined)));
    return {
      protocolVersion: 5,
      clientId: cfg.clientId ?? this.options.clientId,
      clean: false,
      keepalive: cfg.keepaliveSeconds,
      reconnectPeriod: 0,
      connectTimeout: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      resubscribe: false,
      queueQoSZero: false,
      properties: { sessionExpiryInterval: cfg.sessionExpirySeconds },
      will: { topic: this.options.will.topic, payload: Buffer.from(this.options.will.payload), qos: 1, retain: true },
      username: cfg.username,
      password: cfg.password,
      ca,
      cert,
      key,
      rejectUnauthorized: true,
    };
  }

  private onConnected(connack: IConnackPacket): void {
    if (this.sm.state !== 'connecting') return;
    this.sm.transition('connected', 'CONNACK');
    this.connects++;
    this.connectedSince = this.options.clock.now();
    this.lastError = null;
    const info: ConnectedInfo = {
      sessionPresent: connack.sessionPresent,
      receiveMaximum: connack.properties?.receiveMaximum ?? 65535,
    };
    this.log.info({ ...info }, 'connected to the cloud broker');
    this.stableTimer = this.options.clock.setTimer(this.options.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS, () => {
      this.stableTimer = undefined;
      this.backoff.reset();
    });
    this.listeners.emit('connected', info);
  }

  private onClosed(client: MqttClient): void {
    const wasConnected = this.sm.state === 'connected';
    this.client = undefined;
    this.stableTimer?.cancel();
    this.stableTimer = undefined;
    this.failInflight('the connection closed before the broker acknowledged');
    client.end(true);
    if (wasConnected) {
      this.disconnects++;
      this.connectedSince = null;
      this.log.warn({ err: this.lastError }, 'disconnected from the cloud broker');
    } else {
      this.failedAttempts++;
      this.log.warn({ err: this.lastError }, 'could not connect to the cloud broker');
    }
    this.scheduleRetry();
    if (wasConnected) this.listeners.emit('disconnected', { reason: this.lastError ?? 'closed' });
  }

  private scheduleRetry(): void {
    this.sm.transition('waiting');
    const delay = this.backoff.next();
    this.retryDue = this.options.clock.monotonic() + delay;
    this.log.info({ delayMs: delay, attempt: this.backoff.attempts }, 'reconnecting after backoff');
    this.retryTimer = this.options.clock.setTimer(delay, () => {
      this.retryTimer = undefined;
      this.retryDue = undefined;
      void this.attempt();
    });
  }

  private failInflight(why: string): void {
    const fails = [...this.inflight];
    this.inflight.clear();
    for (const f of fails) f(offline(why));
  }

  private endClient(client: MqttClient, graceful: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        timer.cancel();
        resolve();
      };
      // A DISCONNECT that is never written (dead socket) must not hold up a stop.
      const timer = this.options.clock.setTimer(GRACEFUL_END_MS, () => {
        client.end(true);
        finish();
      });
      client.end(!graceful, { reasonCode: 0 }, () => finish());
    });
  }
}

/**
 * Turns Nagle's algorithm off on the TCP (or TLS) socket. mqtt.js leaves it
 * on, so a small PUBLISH written while the previous one is unacknowledged
 * waits for the peer's delayed ACK (40 ms on Linux): a config report right
 * after its event took 40-80 ms longer than the work itself.
 */
export function noDelay(client: MqttClient): void {
  const stream = (client as unknown as { stream?: { setNoDelay?: (on: boolean) => unknown } }).stream;
  if (typeof stream?.setNoDelay === 'function') stream.setNoDelay(true);
}

/** The broker URL without credentials, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
