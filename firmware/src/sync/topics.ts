/**
 * The MQTT topic tree of one box (CONTRACT.md "MQTT"): everything lives
 * under `pgw/v1/{deviceId}/`, so a broker ACL can give each device its own
 * subtree by client identity. Device ids cannot hold `/`, `+` or `#`
 * (device-schema.ts), which MQTT 5 §4.7 reserves as separators and
 * wildcards.
 */
export const TOPIC_ROOT = 'pgw/v1';

export interface DeviceTopics {
  readonly prefix: string;
  readonly configDesired: string;
  readonly configReported: string;
  readonly status: string;
  readonly telemetry: string;
  readonly events: string;
  readonly cdr: string;
  /** Subscription filter for every command (`cmd/+`). */
  readonly commandFilter: string;
  /** The topic a command is requested on. */
  command(name: string): string;
  /** The command name of a `cmd/{name}` topic of this device, else undefined. */
  commandName(topic: string): string | undefined;
}

export function deviceTopics(deviceId: string): DeviceTopics {
  const prefix = `${TOPIC_ROOT}/${deviceId}/`;
  const cmd = `${prefix}cmd/`;
  return {
    prefix,
    configDesired: `${prefix}config/desired`,
    configReported: `${prefix}config/reported`,
    status: `${prefix}status`,
    telemetry: `${prefix}telemetry`,
    events: `${prefix}events`,
    cdr: `${prefix}cdr`,
    commandFilter: `${cmd}+`,
    command: (name) => `${cmd}${name}`,
    commandName: (topic) => {
      if (!topic.startsWith(cmd)) return undefined;
      const name = topic.slice(cmd.length);
      return name.length > 0 && !name.includes('/') ? name : undefined;
    },
  };
}

/** `pgw/v1/+/{leaf}`: one leaf topic of every device, for fleet tools. */
export function fleetFilter(leaf: string): string {
  return `${TOPIC_ROOT}/+/${leaf}`;
}

/** The device id of a topic under TOPIC_ROOT, else undefined. */
export function deviceIdOfTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  if (parts.length < 3 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  return parts[2] || undefined;
}
