/**
 * OtaLink adapters: the agent publishes and subscribes through whichever
 * MQTT connection the composition root owns.
 *
 * - connectionOtaLink(): over the sync layer's MqttConnection (issue 3),
 *   described here structurally so ota/ does not import firmware/src/sync.
 *   That connection does not queue: a publish while offline rejects, and
 *   the agent's Reporter sends the latest report again on reconnect. It
 *   subscribes again on every connect (Retain Handling 0, MQTT 5 §3.8.3.1),
 *   so the retained target always arrives; the agent ignores ids it has
 *   already handled.
 * - mqttJsOtaLink(): over a plain mqtt.js client (tests, tools).
 */
import type { MqttClient } from 'mqtt';
import { otaTopics } from '../protocol/topics.js';
import type { OtaLink } from './ports.js';

/** The part of firmware/src/sync/mqtt-connection.ts's MqttConnection this adapter uses. */
export interface MqttConnectionLike {
  readonly connected: boolean;
  publish(topic: string, payload: string | Buffer, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  subscribe(subs: Record<string, { qos: 0 | 1; rh?: 0 | 1 | 2 }>): Promise<void>;
  on(event: 'connected', fn: (info: never) => void): () => void;
  on(event: 'message', fn: (msg: { topic: string; payload: Buffer }) => void): () => void;
}

export function connectionOtaLink(connection: MqttConnectionLike, deviceId: string, onError?: (e: Error) => void): OtaLink {
  const topics = otaTopics(deviceId);
  const subscribe = (): void => {
    connection.subscribe({ [topics.desired]: { qos: 1, rh: 0 } }).catch((e: Error) => onError?.(e));
  };
  return {
    publishReported: (payload) => connection.publish(topics.reported, payload, { qos: 1, retain: true }),
    async subscribeDesired(handler) {
      const offMessage = connection.on('message', (msg) => {
        if (msg.topic === topics.desired) handler(msg.payload);
      });
      const offConnected = connection.on('connected', () => subscribe());
      if (connection.connected) subscribe();
      return () => {
        offMessage();
        offConnected();
      };
    },
    onConnected: (handler) => connection.on('connected', () => handler()),
  };
}

export function mqttJsOtaLink(client: MqttClient, deviceId: string): OtaLink {
  const topics = otaTopics(deviceId);
  return {
    async publishReported(payload) {
      if (!client.connected) throw new Error('not connected');
      await client.publishAsync(topics.reported, payload, { qos: 1, retain: true });
    },
    async subscribeDesired(handler) {
      const onMessage = (topic: string, payload: Buffer): void => {
        if (topic === topics.desired) handler(payload);
      };
      client.on('message', onMessage);
      if (client.connected) await client.subscribeAsync(topics.desired, { qos: 1 });
      const onConnect = (): void => {
        client.subscribeAsync(topics.desired, { qos: 1 }).catch(() => undefined);
      };
      client.on('connect', onConnect);
      return () => {
        client.off('message', onMessage);
        client.off('connect', onConnect);
      };
    },
    onConnected(handler) {
      client.on('connect', handler);
      return () => {
        client.off('connect', handler);
      };
    },
  };
}
