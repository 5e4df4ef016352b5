/** Stands in for an mqtt.js client: the test decides when it connects, closes and acks. */
import { EventEmitter } from 'node:events';
import type { IClientOptions } from 'mqtt';

export interface FakePublish {
  topic: string;
  payload: string;
  opts: { qos?: number; retain?: boolean; properties?: { correlationData?: Buffer } };
  cb: (e?: Error) => void;
}

export class FakeMqttClient extends EventEmitter {
  ended: Array<{ force: boolean }> = [];
  readonly publishes: FakePublish[] = [];
  readonly subscriptions: Array<Record<string, { qos: number; rh?: number }>> = [];
  /** Acknowledge every publish at once. */
  autoAck = false;

  constructor(readonly options: IClientOptions) {
    super();
  }
  publish(topic: string, payload: string | Buffer, opts: FakePublish['opts'], cb: (e?: Error) => void): this {
    this.publishes.push({ topic, payload: payload.toString(), opts, cb });
    if (this.autoAck) queueMicrotask(() => cb());
    return this;
  }
  async subscribeAsync(map: Record<string, { qos: number; rh?: number }>) {
    this.subscriptions.push(map);
    return Object.entries(map).map(([topic, o]) => ({ topic, qos: o.qos }));
  }
  end(force?: boolean, _opts?: unknown, cb?: () => void): this {
    this.ended.push({ force: !!force });
    cb?.();
    return this;
  }
  accept(props: Record<string, unknown> = {}): void {
    this.emit('connect', { cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: props });
  }
  close(): void {
    this.emit('close');
  }
  deliver(topic: string, payload: string, props: Record<string, unknown> = {}, retain = false): void {
    this.emit('message', topic, Buffer.from(payload), { retain, properties: props });
  }
  on_(topic: string): FakePublish[] {
    return this.publishes.filter((p) => p.topic === topic);
  }
}
