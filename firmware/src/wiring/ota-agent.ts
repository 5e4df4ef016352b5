/**
 * The update agent in the gateway (issue 4; docs/OTA.md "Wiring"): picks the
 * slot backend and the board port, finds what runs now (version and slot, for
 * /api/v1/status and the MQTT status), and starts the agent when the device
 * has a cloud, which is where its targets come from (`ota/desired`). A box
 * without `device.cloud` runs no agent.
 *
 * Started right after the config is read, before the SIP stack: the trial's
 * loop guard counts process starts, and a new slot whose gateway fails later
 * in its start-up must still have that start counted. The agent's ports are
 * bound as the services come up (ota-ports.ts).
 *
 * Nothing here stops the gateway from running: an OTA part that cannot be set
 * up (unknown board, unreadable slots, no trusted keys) is logged and the
 * phones keep working.
 */
import { join } from 'node:path';
import { boardProfile, slotBackendConfig } from '../../../hw/boards/index.js';
import { createSlotBackend } from '../../../hw/slots/index.js';
import type { SlotBackend, SlotBackendConfig } from '../../../hw/slots/index.js';
import { adminStatusProbe, combineHealth, connectionOtaLink, linuxBoardPort, loadTrustedKeys, OtaAgent, sipOptionsProbe } from '../../../ota/agent/index.js';
import type { HealthProbe, MqttConnectionLike, OtaBoardPort } from '../../../ota/agent/index.js';
import type { TrustedKey } from '../../../ota/bundle/keys.js';
import { bootSimulatedBoard, ensureFileSlots, rootTreeFirmwareVersion, simulatedBoardPort } from '../../../ota/agent/simulated-board.js';
import { firmwareVersion, PACKAGE_NAME } from '../cli/version.js';
import { otaConfigOf, type Device, type OtaConfig } from '../config/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { DeferredHealth, DeferredOtaLink, PbxCallGuard, type PbxCallControl } from './ota-ports.js';

/** The agent's default health interval, shortened for a short soak so it still sees several checks. */
const HEALTH_INTERVAL_MAX_MS = 10_000;
const HEALTH_INTERVAL_MIN_MS = 250;

export interface GatewayOtaOptions {
  device: Device;
  dataDir: string;
  /** practice.site.timezone at start: maintenance windows without their own zone use it. */
  siteTimezone: string | undefined;
  clock: Clock;
  logger: Logger;
  /** How a simulated reboot ends the process, as systemd would (default: SIGTERM to this process). */
  stopProcess?: () => void;
}

export interface GatewayOta {
  /** What runs now (the booted slot and its version). */
  readonly firmware: { version: string; slot: string };
  /** Null: no `device.cloud`, or the agent could not be set up (logged). */
  readonly agent: OtaAgent | null;
  bindPbx(pbx: PbxCallControl): void;
  /** Once the SIP stack and the admin API listen. */
  bindHealth(targets: { sip: ReadonlyArray<{ protocol: string; address: string; port: number }>; adminUrl: string; cloudConnected: () => boolean }): void;
  bindConnection(connection: MqttConnectionLike): void;
  /** The gateway is stopping: no hold release may make the PBX take calls again. */
  closeCallGuard(): void;
  stop(): Promise<void>;
}

export async function startGatewayOta(o: GatewayOtaOptions): Promise<GatewayOta> {
  const log = o.logger.child({ component: 'gateway-ota' });
  const cfg = otaConfigOf(o.device);
  const runsAgent = o.device.cloud !== undefined;

  const slotConfig = resolveSlotConfig(o.device, cfg, o.dataDir, log);
  let slots: SlotBackend | null = null;
  let simulatedRoot: string | null = null;
  if (slotConfig) {
    try {
      if (slotConfig.kind === 'file' && (runsAgent || cfg.board === 'simulated')) await ensureFileSlots(slotConfig.root, slotConfig.layout);
      if (cfg.board === 'simulated' && slotConfig.kind === 'file') {
        simulatedRoot = slotConfig.root;
        const boot = await bootSimulatedBoard(slotConfig.root);
        if (boot.rebooted) log.warn({ slot: boot.booted.slot, trialBoot: boot.booted.trialBoot, bootId: boot.booted.bootId }, 'simulated boot after a reboot request');
      }
      slots = createSlotBackend(slotConfig);
    } catch (err) {
      log.error({ err }, 'the boot slots cannot be set up: no updates');
    }
  }

  let bootedSlot: string | null = null;
  try {
    if (slots) bootedSlot = (await slots.status()).booted;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'the booted slot is unknown');
  }
  let version = firmwareVersion();
  // A simulated box runs the version its booted slot holds (see simulated-board.ts).
  if (simulatedRoot && slotConfig?.kind === 'file' && slotConfig.layout === 'dir' && bootedSlot) {
    version = (await rootTreeFirmwareVersion(join(simulatedRoot, 'slots', bootedSlot), PACKAGE_NAME)) ?? version;
  }
  const firmware = { version, slot: bootedSlot ?? process.env.PGW_SLOT ?? 'a' };

  const calls = new PbxCallGuard({ clock: o.clock, logger: o.logger });
  const health = new DeferredHealth();
  const link = new DeferredOtaLink((e) => log.error({ err: e.message }, 'subscribing to ota/desired failed'));
  let cloudConnected: () => boolean = () => false;
  const common = {
    firmware,
    bindPbx: (pbx: PbxCallControl) => calls.bind(pbx),
    bindHealth: (t: Parameters<GatewayOta['bindHealth']>[0]) => {
      cloudConnected = t.cloudConnected;
      health.bind(combineHealth(healthProbes(t.sip, t.adminUrl, () => cloudConnected(), log)));
    },
    bindConnection: (c: MqttConnectionLike) => link.bind(connectionOtaLink(c, o.device.id, (e) => log.error({ err: e.message }, 'subscribing to ota/desired failed'))),
    closeCallGuard: () => calls.close(),
  };

  if (!runsAgent || !slots) {
    if (!runsAgent) log.info('no device.cloud: no OTA agent (update targets come from the cloud)');
    return { ...common, agent: null, stop: async () => undefined };
  }

  let trustedKeys: TrustedKey[] = [];
  try {
    trustedKeys = await loadTrustedKeys(cfg.trustedKeys);
    if (trustedKeys.length === 0) log.error({ paths: cfg.trustedKeys }, 'no OTA trusted keys: every update will be refused');
  } catch (err) {
    log.error({ err: (err as Error).message, paths: cfg.trustedKeys }, 'OTA trusted keys cannot be read: every update will be refused');
  }

  const board: OtaBoardPort = simulatedRoot
    ? simulatedBoardPort({
        root: simulatedRoot,
        clock: o.clock,
        logger: o.logger,
        delayMs: cfg.simulatedRebootSeconds * 1000,
        stopProcess: o.stopProcess ?? (() => process.kill(process.pid, 'SIGTERM')),
      })
    : linuxBoardPort();
  const soakMs = cfg.soakSeconds * 1000;
  const agent = new OtaAgent({
    dataDir: o.dataDir,
    deviceId: o.device.id,
    boardName: o.device.board,
    runningVersion: firmware.version,
    slots,
    board,
    calls,
    health,
    link,
    trustedKeys,
    clock: o.clock,
    logger: o.logger,
    ...(o.siteTimezone !== undefined ? { siteTimezone: o.siteTimezone } : {}),
    tuning: {
      soakMs,
      trialTimeoutMs: cfg.trialTimeoutSeconds * 1000,
      healthIntervalMs: Math.min(HEALTH_INTERVAL_MAX_MS, Math.max(HEALTH_INTERVAL_MIN_MS, Math.floor(soakMs / 5))),
      rebootHoldMs: cfg.rebootHoldSeconds * 1000,
    },
  });
  try {
    await agent.start();
  } catch (err) {
    log.error({ err }, 'the OTA agent failed to start: no updates');
    return { ...common, agent: null, stop: async () => undefined };
  }
  return {
    ...common,
    agent,
    stop: () => agent.stop(),
  };
}

function resolveSlotConfig(device: Device, cfg: OtaConfig, dataDir: string, log: Logger): SlotBackendConfig | null {
  switch (cfg.slots) {
    case 'file-image':
      return { kind: 'file', root: join(dataDir, 'slots-sim'), layout: 'image' };
    case 'file-dir':
      return { kind: 'file', root: join(dataDir, 'slots-sim'), layout: 'dir' };
    case 'board':
      try {
        return slotBackendConfig(boardProfile(device.board), { dataDir });
      } catch (err) {
        log.error({ err: (err as Error).message, board: device.board }, 'no slot backend for this board: no updates');
        return null;
      }
    default: {
      const never: never = cfg.slots;
      throw new Error(`unknown slots ${String(never)}`);
    }
  }
}

/** A wildcard listening address is probed on loopback. */
function probeHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}

/**
 * The trial's health (issue 4): SIP answering on our own UDP listener, the
 * practice config applied, and the cloud or an uplink reachable (the MQTT
 * connection up, else an uplink up or standby in /api/v1/status).
 */
function healthProbes(
  sip: ReadonlyArray<{ protocol: string; address: string; port: number }>,
  adminUrl: string,
  cloudConnected: () => boolean,
  log: Logger,
): HealthProbe[] {
  const probes: HealthProbe[] = [];
  const udp = sip.find((l) => l.protocol === 'udp');
  if (udp) probes.push(sipOptionsProbe({ host: probeHost(udp.address), port: udp.port }));
  else log.warn('no UDP SIP listener: the trial health check cannot probe SIP');
  const url = new URL(adminUrl);
  const host = probeHost(url.hostname.replace(/^\[|\]$/g, ''));
  url.hostname = host.includes(':') ? `[${host}]` : host;
  const [config, uplink] = adminStatusProbe({ api: url.toString(), requireUplink: true });
  if (config) probes.push(config);
  if (uplink) {
    probes.push({
      name: 'reachable',
      run: async (signal) => (cloudConnected() ? { ok: true, detail: 'cloud broker connected' } : uplink.run(signal)),
    });
  }
  return probes;
}
