/**
 * How `pgw fleet` reaches the broker: URL, and TLS files or a username;
 * the password only from the environment (PGW_FLEET_PASSWORD), never the
 * command line where `ps` shows it to everyone.
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { PgwError } from '../../util/errors.js';
import { noDelay } from '../../sync/mqtt-connection.js';

export interface BrokerOptions {
  url: string;
  ca?: string;
  cert?: string;
  key?: string;
  username?: string;
  password?: string;
  /** Give up connecting after this long. */
  connectTimeoutMs: number;
}

const URL_PATTERN = /^(?:mqtts?|wss?):\/\/[^\s/]+(?:\/\S*)?$/;

export function checkBrokerUrl(url: string): boolean {
  return URL_PATTERN.test(url);
}

/** Connects a short-lived MQTT 5 client (clean start, no reconnect). PGW_E_SYNC_OFFLINE when it cannot. */
export async function connectFleetClient(o: BrokerOptions): Promise<MqttClient> {
  let files: Array<Buffer | undefined>;
  try {
    files = await Promise.all([o.ca, o.cert, o.key].map((p) => (p ? readFile(p) : undefined)));
  } catch (e) {
    throw new PgwError('PGW_E_CONFIG_READ', `cannot read a TLS file: ${(e as Error).message}`, { cause: e });
  }
  const [ca, cert, key] = files;
  const options: IClientOptions = {
    protocolVersion: 5,
    clean: true,
    clientId: `pgw-fleet-${randomBytes(6).toString('hex')}`,
    reconnectPeriod: 0,
    connectTimeout: o.connectTimeoutMs,
    username: o.username,
    password: o.password,
    ca,
    cert,
    key,
    rejectUnauthorized: true,
  };
  try {
    // allowRetries false: a connect timeout (a close without an error) rejects too.
    const client = await connectAsync(o.url, options, false);
    noDelay(client);
    return client;
  } catch (e) {
    throw new PgwError('PGW_E_SYNC_OFFLINE', `cannot connect to the broker ${o.url.replace(/\/\/[^@/]*@/, '//***@')}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
