/**
 * The device part of the gateway file (CONTRACT.md): set at commissioning,
 * never pushed by the cloud. Identity, the network role of each interface,
 * where the cloud broker is (issue 3), where the local admin API listens and
 * how the update agent trusts and installs bundles (issue 4).
 */
import { z } from 'zod';
import { isIP } from 'node:net';
import { absolutePath, hostPort, port, positiveInt, secret } from './primitives.js';

/** Linux interface names are at most 15 characters (IFNAMSIZ - 1). */
const interfaceName = () =>
  z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, { message: 'must be a network interface name, e.g. eth0' });

export const InterfacesSchema = z
  .strictObject({
    lan: interfaceName().optional().describe('Faces the desk phones.'),
    hscn: interfaceName().optional().describe('Faces the cloud over the NHS network.'),
    wan: interfaceName().optional().describe('Broadband or 4G, for backup trunks.'),
  })
  .describe('Network role of each interface; absent: found from the routing table at start.');

export const AdminSchema = z.strictObject({
  listen: hostPort().default('127.0.0.1:8080').describe('Where the local admin HTTP API listens.'),
});

export const MqttSchema = z.strictObject({
  url: z
    .string()
    .regex(/^(?:mqtts?|wss?):\/\/[^\s/]+(?:\/\S*)?$/, { message: 'must be an mqtt://, mqtts://, ws:// or wss:// URL' })
    .describe('Broker URL.'),
  ca: absolutePath().optional().describe("The cloud's CA certificate."),
  cert: absolutePath().optional().describe('Per-device client certificate.'),
  key: absolutePath().optional().describe('Key of the client certificate.'),
  username: z.string().min(1).max(128).optional(),
  password: secret().optional(),
  clientId: z.string().min(1).max(128).optional().describe('Default: the device id.'),
  keepaliveSeconds: positiveInt().default(30),
  sessionExpirySeconds: z
    .number()
    .int()
    .min(0)
    .default(604800)
    .describe('MQTT 5 session expiry, so QoS 1 messages sent while the box was away reach it when it returns.'),
  reconnect: z
    .strictObject({
      minMs: positiveInt().default(1000),
      maxMs: positiveInt().default(60000),
    })
    .prefault({})
    .describe('Capped exponential backoff with jitter between these bounds.'),
});

export const CloudSchema = z.strictObject({
  mqtt: MqttSchema,
  statusIntervalSeconds: positiveInt().default(60).describe('status is published on every change and at least this often.'),
  telemetryIntervalSeconds: positiveInt().default(60),
});

/** Where bundles' signing keys are baked into the image (docs/OTA.md, Keys). */
export const DEFAULT_OTA_KEY_DIR = '/etc/pgw/ota-keys';

export const OtaSchema = z
  .strictObject({
    trustedKeys: z
      .array(absolutePath())
      .min(1)
      .default([DEFAULT_OTA_KEY_DIR])
      .describe('Public keys that may sign update bundles: files, or directories of *.pub and *.pem.'),
    slots: z
      .enum(['board', 'file-image', 'file-dir'])
      .default('board')
      .describe(
        "Boot slots: the board profile's backend, or `file` slots under the data directory (DATA/slots-sim) as image files (`file-image`) or directories (`file-dir`), for development and tests.",
      ),
    board: z
      .enum(['linux', 'simulated'])
      .default('linux')
      .describe(
        '`linux`: reboot through systemd, boot id from the kernel. `simulated` (file slots only, development and tests): a reboot is recorded and the process is stopped as systemd would (SIGTERM) after simulatedRebootSeconds; the next start plays the boot loader.',
      ),
    simulatedRebootSeconds: z
      .number()
      .int()
      .min(0)
      .max(60)
      .default(2)
      .describe('With board `simulated`: seconds from the reboot request to the SIGTERM, like a real shutdown reaching the gateway.'),
    soakSeconds: positiveInt().default(300).describe('A new slot on trial is committed after being healthy this long without a break.'),
    trialTimeoutSeconds: positiveInt().default(1200).describe('A trial not healthy for the soak time within this long rolls back.'),
    rebootHoldSeconds: positiveInt()
      .default(120)
      .describe('At most this long, new calls are refused (503) around the reboot into an update; ended early when the reboot does not happen.'),
  })
  .describe('The update agent (docs/OTA.md). It runs only with `cloud`: its targets come over MQTT.');

const HOST_NAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export const ModemDataProbeSchema = z
  .strictObject({
    host: z
      .string()
      .max(253)
      .refine((h) => isIP(h) !== 0 || HOST_NAME.test(h), { message: 'must be an IP address or a host name' })
      .describe("A host known to answer TCP over 4G (the trunk provider's SIP server over TCP, say). An IP address avoids depending on DNS."),
    port: port().describe('Its TCP port.'),
    intervalSeconds: positiveInt().max(3600).default(30).describe('How often to connect.'),
    timeoutSeconds: positiveInt().max(60).default(8).describe('A connection not open within this long is a failure.'),
    failAfter: positiveInt().max(20).default(3).describe('Failures in a row before the attached-but-dead modem is reset (AT+CFUN=1,1).'),
  })
  .describe(
    "A TCP connection opened from the modem's own address (the board's 4G interface), so it tests the 4G path and nothing else. Absent: the data path is not probed (a modem that is attached but passes no data is not found).",
  );

export const ModemSchema = z
  .strictObject({
    dataProbe: ModemDataProbeSchema.optional(),
  })
  .describe('The 4G modem of boards that have one (docs/HARDWARE.md); ignored on boards without.');

/** The board with no front panel, modem or PoE control that every x86 box and VM is. */
export const GENERIC_BOARD = 'generic';

export const MediaSchema = z.strictObject({
  workers: z
    .union([z.literal('auto'), z.number().int().min(0).max(16)])
    .default('auto')
    .describe('Threads that forward RTP: auto (one per CPU core, at most 4), or a number; 0 forwards on the main thread.'),
  kernelForwarding: z
    .enum(['auto', 'off'])
    .default('auto')
    .describe(
      'Kernel fast path (nftables) for steady pass-through calls between phones on the LAN: auto uses it when nft is there and the gateway runs as root; off relays every packet in user space.',
    ),
});

export const DeviceSchema = z.strictObject({
  id: z
    .string()
    // Used in MQTT topics (pgw/v1/{deviceId}/...): no / + # (MQTT 5 §4.7).
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { message: 'must be letters, digits, dot, dash or underscore, up to 64' })
    .describe('Device identity; also the MQTT topic segment.'),
  board: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'must be a board profile name, e.g. rpi4-poe' })
    .default(GENERIC_BOARD)
    .describe('Board profile (front panel, modem, PoE, watchdog); default generic.'),
  interfaces: InterfacesSchema.optional(),
  admin: AdminSchema.prefault({}),
  cloud: CloudSchema.optional().describe('Absent: standalone, no cloud sync.'),
  ota: OtaSchema.optional().describe('Absent: every default (the agent still runs when `cloud` is set).'),
  media: MediaSchema.prefault({}).describe('How this box forwards media (its cores, not the practice).'),
  modem: ModemSchema.optional(),
});

export type Device = z.output<typeof DeviceSchema>;
export type DeviceInput = z.input<typeof DeviceSchema>;
export type InterfacesConfig = z.output<typeof InterfacesSchema>;
export type AdminConfig = z.output<typeof AdminSchema>;
export type CloudConfig = z.output<typeof CloudSchema>;
export type MqttConfig = z.output<typeof MqttSchema>;
export type OtaConfig = z.output<typeof OtaSchema>;
export type ModemConfig = z.output<typeof ModemSchema>;
export type ModemDataProbeConfig = z.output<typeof ModemDataProbeSchema>;
export type MediaConfig = z.output<typeof MediaSchema>;

/** `device.ota` with its defaults filled in, present or not. */
export function otaConfigOf(device: Device): OtaConfig {
  return device.ota ?? OtaSchema.parse({});
}
