/**
 * The box's hardware in the gateway (issue 5; docs/HARDWARE.md "In the
 * gateway"): opens what `device.board` names (hw/hardware.ts), starts the 4G
 * modem monitor and the health monitor early, and binds the front panel, the
 * watchdog keeper and the phone-to-port map once the services they read are
 * up (`bind`). A device that is missing or broken is logged and left out:
 * the phones keep working.
 *
 * Start order inside the gateway: `startGatewayHardware` before the uplinks
 * (the trunk that leaves by 4G reads the modem), `bind` last, when the SIP
 * stack, the admin API and the store are up, so the watchdog keeper's first
 * pet (and systemd's READY=1) means "ready". Stop: keeper disarmed first
 * (a deliberate stop must not reset the box), then the panel, health, modem.
 */
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { boardProfile, interfaceRoles } from '../../../hw/boards/index.js';
import type { BoardProfile } from '../../../hw/boards/index.js';
import { devSimAt } from '../../../hw/boards/dev-sim.js';
import { createAlarmEvaluator, createHealthSampler, openHardware, type Hardware, type HardwareOptions } from '../../../hw/hardware.js';
import { interfaceIPv4, tcpConnectProbe } from '../../../hw/modem/data-probe.js';
import type { ActiveAlarm, HealthAlarmEvent } from '../../../hw/health/alarm-rules.js';
import { HealthMonitor } from '../../../hw/health/health-monitor.js';
import type { HealthSnapshot } from '../../../hw/health/health-sampler.js';
import type { LinkHealth } from '../../../hw/modem/link-health.js';
import { modemLinkStateSource } from '../../../hw/modem/modem-link-source.js';
import { identityDirFrom } from '../../../hw/identity/device-identity.js';
import { PanelController, type FactoryResetOutcome } from '../../../hw/panel/panel-controller.js';
import type { PanelPage } from '../../../hw/panel/panel-pages.js';
import { panelSnapshotFrom } from '../../../hw/panel/panel-snapshot.js';
import { locatorFromRegistrations, parseProcNetArp, PhonePortMap, type PhonePort } from '../../../hw/poe/phone-port-map.js';
import { WatchdogKeeper, type KeeperStats } from '../../../hw/watchdog/watchdog-keeper.js';
import type { Device } from '../config/index.js';
import type { GatewayStatus } from '../admin/status-provider.js';
import type { TelemetrySource } from '../sync/ports.js';
import type { LinkStateSource } from '../uplinks/index.js';
import { healthTelemetrySource } from './hardware-telemetry.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

export interface GatewayHardwareOptions {
  device: Device;
  clock: Clock;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Health sample period (default 30 s). */
  healthIntervalMs?: number;
  /** Panel repaint period (default 2 s). */
  panelRefreshMs?: number;
  /**
   * Where first boot leaves the claim code (`claim-code`, until `claimed`
   * exists; image/rootfs/usr/lib/pgw/firstboot.sh). Default PGW_IDENTITY_DIR,
   * else /data/identity.
   */
  identityDir?: string;
}

/** The OTA agent's report, as much of it as the panel shows (ota/protocol/reported.ts). */
export interface OtaPanelSource {
  state: string;
  target: { version: string } | null;
  progress: { percent: number } | null;
}

/** What the gateway's services give the hardware once they are up. */
export interface HardwareBindings {
  status: () => GatewayStatus | Promise<GatewayStatus>;
  /** The phones' registrations: extension and the address each registered from (for the port map). */
  registrations: () => ReadonlyArray<{ extension: string; sourceIp: string }>;
  /** The watchdog's view of the gateway's own health. */
  sipListening: () => number;
  adminUrl: string;
  dataDir: string;
  /** A health alarm for the cloud (`events`); absent without device.cloud. */
  publishAlarm?: (event: HealthAlarmEvent & { at: string }) => void;
  /** The update agent's report, for the panel's OTA page; null without an agent. */
  ota?: () => OtaPanelSource | null;
  /** Held twice on the panel: erase and restart (factory-reset.ts). Default: logged and refused. */
  onFactoryReset?: () => Promise<FactoryResetOutcome>;
}

/** `GET /api/v1/hardware`: the board, health, alarms, modem, watchdog and panel. */
export interface HardwareView {
  board: string;
  health: HealthSnapshot | null;
  alarms: ActiveAlarm[];
  modem: LinkHealth | null;
  watchdog: (KeeperStats & { kind: string }) | null;
  panel: { page: PanelPage; state: string } | null;
  poe: boolean;
}

export interface GatewayHardware {
  readonly board: BoardProfile;
  /** The link source of an uplink whose interface role is the modem's (4G); null: not the modem's. */
  linkFor(role: 'lan' | 'hscn' | 'wan'): LinkStateSource | null;
  bind(b: HardwareBindings): Promise<void>;
  /** Something the panel shows changed (the mode): repaint now. */
  notify(): void;
  view(): HardwareView;
  /** Null when the board has no PoE controller (or it did not answer). */
  ports(): Promise<PhonePort[] | null>;
  /** The cloud telemetry from the same health samples (one sampler), with the fan, PoE and modem. */
  telemetry(): TelemetrySource;
  stop(): Promise<void>;
}

/** `device.board`, with the dev-sim rig's directory from PGW_SIM_DIR; unknown boards fall back to generic. */
export function resolveBoard(name: string, env: NodeJS.ProcessEnv, log: Logger): BoardProfile {
  if (name === 'dev-sim' && env.PGW_SIM_DIR) return devSimAt(env.PGW_SIM_DIR);
  try {
    return boardProfile(name);
  } catch (err) {
    log.error({ err: (err as Error).message, board: name }, 'unknown board: running as generic (no panel, modem or PoE)');
    return boardProfile('generic');
  }
}

export async function startGatewayHardware(o: GatewayHardwareOptions): Promise<GatewayHardware> {
  const env = o.env ?? process.env;
  const log = o.logger.child({ component: 'gateway-hw' });
  const board = resolveBoard(o.device.board, env, log);
  const roles = interfaceRoles(board, o.device.interfaces);
  const hw: Hardware = await openHardware({ board, clock: o.clock, logger: o.logger, env, ...modemProbeOptions(o.device, board, log) });
  hw.modem?.start();

  const roleOf = Object.fromEntries(Object.entries(roles).flatMap(([role, name]) => (name ? [[name, role]] : [])));
  const health = new HealthMonitor({
    sampler: createHealthSampler(hw, { now: () => o.clock.now(), interfaceRoles: roleOf }),
    clock: o.clock,
    logger: o.logger,
    evaluator: createAlarmEvaluator(board),
    ...(o.healthIntervalMs !== undefined ? { intervalMs: o.healthIntervalMs } : {}),
  });
  // systeminformation can take a second or two: never hold up the phones for it.
  void health.start();

  let panel: PanelController | null = null;
  let keeper: WatchdogKeeper | null = null;
  let portMap: PhonePortMap | null = null;
  const offs: Array<() => void> = [];
  // The neighbour table as of the last ports() call (read asynchronously, then joined synchronously).
  let arpTable = new Map<string, string>();
  const claim = claimCodeReader(o.identityDir ?? identityDirFrom(env), o.clock);
  log.info(
    { board: board.name, panel: hw.panel !== null, modem: hw.modem !== null, poe: hw.poe !== null, watchdog: hw.watchdog.kind },
    'hardware opened',
  );

  return {
    board,
    linkFor(role) {
      const iface = roles[role];
      if (!hw.modem || !board.modem || !iface || iface !== board.modem.netInterface) return null;
      return modemLinkStateSource(hw.modem, `4G modem (${iface})`);
    },
    async bind(b) {
      if (b.publishAlarm) {
        const publish = b.publishAlarm;
        offs.push(health.onAlarm((e) => publish({ ...e, at: new Date(o.clock.now()).toISOString() })));
      }
      if (hw.poe) {
        portMap = new PhonePortMap(
          hw.poe,
          locatorFromRegistrations({ registrations: b.registrations, neighbours: () => arpTable }),
        );
      }
      if (hw.panel) {
        const p = new PanelController({
          panel: hw.panel,
          clock: o.clock,
          logger: o.logger.child({ component: 'panel' }),
          ...(o.panelRefreshMs !== undefined ? { refreshMs: o.panelRefreshMs } : {}),
          snapshot: async () =>
            panelSnapshotFrom({
              deviceId: o.device.id,
              status: await b.status(),
              health: health.latest(),
              alarms: health.alarms(),
              modem: hw.modem?.linkHealth() ?? null,
              ota: otaView(b.ota?.() ?? null),
              claimCode: await claim.read(),
            }),
          onFactoryReset:
            b.onFactoryReset ??
            (async () => {
              const message = 'factory reset asked for on the panel: not wired in this gateway, refused';
              log.warn(message);
              return { outcome: 'refused', reason: 'failed', message };
            }),
        });
        panel = p;
        offs.push(health.onAlarm(() => void p.notify()));
        if (hw.modem) offs.push(hw.modem.onLinkHealth(() => void p.notify()));
        await p.start();
      }
      keeper = new WatchdogKeeper({
        device: hw.watchdog,
        clock: o.clock,
        logger: o.logger.child({ component: 'watchdog' }),
        intervalMs: hw.watchdogIntervalMs,
        health: () => gatewayHealthy(b),
      });
      await keeper.start().catch((err: unknown) => log.error({ err: (err as Error).message }, 'the watchdog could not be opened'));
    },
    notify() {
      void panel?.notify();
    },
    view() {
      const k = keeper;
      return {
        board: board.name,
        health: health.latest(),
        alarms: health.alarms(),
        modem: hw.modem?.linkHealth() ?? null,
        watchdog: k ? { kind: hw.watchdog.kind, ...k.stats() } : null,
        panel: panel ? { page: panel.currentPage, state: panel.controlState } : null,
        poe: hw.poe !== null,
      };
    },
    telemetry() {
      return healthTelemetrySource({
        latest: () => health.latest(),
        sampleNow: () => health.sampleNow(),
        now: () => o.clock.now(),
        modem: () => (hw.modem ? { health: hw.modem.linkHealth(), status: hw.modem.status() } : null),
      });
    },
    async ports() {
      if (!portMap) return null;
      arpTable = await readArp();
      return portMap.phonePorts();
    },
    async stop() {
      for (const off of offs.splice(0)) off();
      // Disarmed: a deliberate stop (SIGTERM) must not end in a watchdog reset.
      await keeper?.stop({ disarm: true }).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'the watchdog did not stop cleanly'));
      await panel?.stop();
      health.stop();
      await hw.close();
    },
  };
}

/**
 * device.modem.dataProbe as the modem monitor's data probe: a TCP connection
 * from the modem interface's own IPv4 address (the board's 4G interface), so
 * it tests the 4G path; no address on that interface is a failed probe.
 */
export function modemProbeOptions(device: Device, board: BoardProfile, log: Logger): Pick<HardwareOptions, 'modemDataProbe' | 'modemProbe'> {
  const cfg = device.modem?.dataProbe;
  if (!cfg) return {};
  if (!board.modem) {
    log.warn({ board: board.name }, 'device.modem.dataProbe is set but this board has no modem: ignored');
    return {};
  }
  const iface = board.modem.netInterface;
  log.info({ host: cfg.host, port: cfg.port, iface, intervalSeconds: cfg.intervalSeconds }, 'modem data probe over 4G');
  return {
    modemDataProbe: tcpConnectProbe({ host: cfg.host, port: cfg.port, timeoutMs: cfg.timeoutSeconds * 1000, localAddress: interfaceIPv4(iface), requireLocalAddress: true }),
    modemProbe: { intervalMs: cfg.intervalSeconds * 1000, failAfter: cfg.failAfter, timeoutMs: cfg.timeoutSeconds * 1000 },
  };
}

async function readArp(): Promise<Map<string, string>> {
  try {
    return parseProcNetArp(await readFile('/proc/net/arp', 'utf8'));
  } catch {
    return new Map();
  }
}

/** Only while an update runs: the panel shows its page and blinks green. */
export function otaView(r: OtaPanelSource | null): { state: string; version?: string; percent?: number } | null {
  if (!r || r.state === 'idle') return null;
  return { state: r.state, ...(r.target ? { version: r.target.version } : {}), ...(r.progress ? { percent: r.progress.percent } : {}) };
}

/** The claim code while the box is unclaimed, re-read at most every 30 s (the panel asks every 2 s). */
export function claimCodeReader(dir: string, clock: Clock): { read(): Promise<string | null> } {
  let cached: string | null = null;
  let readAt = -Infinity;
  return {
    async read() {
      if (clock.monotonic() - readAt < 30_000) return cached;
      readAt = clock.monotonic();
      try {
        await access(join(dir, 'claimed'));
        cached = null;
      } catch {
        cached = (await readFile(join(dir, 'claim-code'), 'utf8').catch(() => '')).trim() || null;
      }
      return cached;
    },
  };
}

/** The watchdog keeper's health: SIP listening, the admin API answering and the data directory writable. */
export async function gatewayHealthy(b: Pick<HardwareBindings, 'sipListening' | 'adminUrl' | 'dataDir'>): Promise<boolean> {
  if (b.sipListening() === 0) return false;
  try {
    await access(b.dataDir, constants.W_OK);
  } catch {
    return false;
  }
  return adminAnswers(`${b.adminUrl}/api/v1/health`);
}

function adminAnswers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    // The keeper gives up on a health check after half its interval; this only frees the socket.
    req.setTimeout(5000, () => req.destroy());
    req.end();
  });
}
