/**
 * The composition root (ARCHITECTURE.md): builds every service and wires them
 * by constructor injection. Nothing starts as a side effect of an import.
 *
 * Start order: config (file, then the store's last applied practice, the
 * newer wins) → OTA agent (with device.cloud; early, so a trial start is
 * counted even if the rest fails) → SIP stack → media relay → UA core →
 * registrar, uplinks and PBX → admin API → cloud sync. Stop order is the
 * reverse, with the PBX first refusing new calls so a SIGTERM never cuts a
 * call silently: calls up get a BYE.
 */
import { loadGatewayFile } from './config/load.js';
import type { Device, Practice } from './config/index.js';
import { createAdminServer, type AdminServer } from './admin/server.js';
import type { CallView, GatewayStatus, RegistrationView, StatusProvider } from './admin/status-provider.js';
import type { LegStats, RelayLeg } from './media/relay/index.js';
import { startSipStack, type SipStack } from './sip/transaction/sip-stack.js';
import { readListenerTls } from './sip/transport/listener-tls.js';
import { UserAgentCore } from './sip/ua/user-agent-core.js';
import { PracticeStore } from './store/practice-store.js';
import { SystemClock, type Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';
import type { B2buaCall } from './pbx/b2bua-call.js';
import { FailureThrottle } from './pbx/failure-throttle.js';
import { LocationService } from './pbx/location-service.js';
import { Pbx } from './pbx/pbx.js';
import { Registrar } from './pbx/registrar.js';
import { createCloudSync, lastKnownGoodFromPracticeStore, type CloudSync } from './sync/index.js';
import { callEventFor, callRecordFor } from './wiring/call-reporting.js';
import { LivePractice } from './wiring/live-practice.js';
import { startGatewayHardware, type GatewayHardware } from './wiring/hardware.js';
import { startGatewayMedia } from './wiring/media.js';
import type { GatewayMedia } from './wiring/media.js';
import { finishPendingFactoryReset, identityDirFrom, startGatewayFactoryReset } from './wiring/factory-reset.js';
import { startGatewayOta, type GatewayOta } from './wiring/ota-agent.js';
import type { PracticeApplier } from './sync/ports.js';
import {
  AlwaysUpLink,
  interfaceToward,
  SysfsLinkWatcher,
  systemPeerDns,
  UplinkManager,
  type InterfaceRole,
  type LinkStateSource,
} from './uplinks/index.js';

export interface GatewayOptions {
  /** Path of the gateway file (device + optional practice). */
  configFile: string;
  /** Persistent store, recordings and OTA state. */
  dataDir: string;
  logger: Logger;
  clock?: Clock;
}

export interface RunningGateway {
  /** Stop accepting new calls, end within 5 s, flush the store (CONTRACT.md, SIGTERM). */
  stop(): Promise<void>;
  /** The admin API's base URL, e.g. http://127.0.0.1:8080. */
  readonly adminUrl: string;
  /** The SIP listening points actually bound. */
  readonly sipListening: Array<{ protocol: string; address: string; port: number }>;
  readonly practice: Practice | null;
}

/** A box with no practice yet (factory fresh, waiting for the cloud) still runs a registrar with no extensions. */
const EMPTY_SIP = { listen: [{ transport: 'udp' as const, host: '0.0.0.0', port: 5060 }, { transport: 'tcp' as const, host: '0.0.0.0', port: 5060 }] };

export async function runGateway(options: GatewayOptions): Promise<RunningGateway> {
  const clock = options.clock ?? new SystemClock();
  const log = options.logger.child({ component: 'gateway' });
  // A factory reset cut short (power, crash) is finished before anything is read (issue 5).
  const resetPaths = { dataDir: options.dataDir, configFile: options.configFile, identityDir: identityDirFrom(process.env) };
  await finishPendingFactoryReset(resetPaths, log);
  const file = await loadGatewayFile(options.configFile);
  const device: Device = file.device;

  const store = new PracticeStore({ dataDir: options.dataDir, logger: options.logger, clock });
  const practice = await choosePractice(store, file.practice, log);

  // The update agent (issue 4) first: its trial loop guard counts this start. Only with a cloud.
  const ota: GatewayOta = await startGatewayOta({ device, dataDir: options.dataDir, siteTimezone: practice?.site.timezone, clock, logger: options.logger });
  const cleanups: Array<() => Promise<void>> = [() => ota.stop()];
  try {
    // The board's devices (issue 5): the modem before the uplinks, which may leave by it.
    const hardware: GatewayHardware = await startGatewayHardware({ device, clock, logger: options.logger });
    cleanups.unshift(() => hardware.stop());
    const listen = (practice?.sip.listen ?? EMPTY_SIP.listen).map((l) => ({ protocol: l.transport, host: l.host, port: l.port }));
    const tls = await readListenerTls(practice?.sip.listen ?? []);
    const sip: SipStack = await startSipStack({ listen, ...(tls ? { tls } : {}), logger: options.logger, clock });
    cleanups.unshift(() => sip.close());
    // Media (issue 2): forwarded by worker threads unless device.media.workers is 0.
    const media = await startGatewayMedia({ device, practice, clock, logger: options.logger });
    cleanups.unshift(() => media.close());
    const relay = media.anchor;

    const timers = practice?.sip.sessionTimers;
    const ua = new UserAgentCore({
      transactions: sip.transactions,
      transport: sip.transport,
      clock,
      logger: options.logger,
      ...(timers ? { config: { sessionTimer: { enabled: true, interval: timers.expires, minSE: timers.minSE } } } : {}),
    });
    const location = new LocationService(clock);
    const throttle = new FailureThrottle({ clock });
    const live = new LivePractice({ initial: practice, fallbackDomain: device.id, location, clock, logger: options.logger });
    const auth = live.auth;
    const limits = practice?.sip.registration;
    const registrar = new Registrar({
      clock,
      logger: options.logger,
      location,
      directory: () => live.directory,
      auth,
      throttle,
      ...(limits
        ? { minExpires: limits.minExpires, maxExpires: limits.maxExpires, defaultExpires: limits.defaultExpires, maxContactsPerExtension: limits.maxContacts }
        : {}),
    });
    // Uplinks (issue 6): the cloud over HSCN and the backup trunks, probed and kept registered.
    const uplinks = new UplinkManager({
      practice,
      ua,
      clock,
      logger: options.logger,
      dns: await systemPeerDns(),
      linkFor: (role, toward) => hardware.linkFor(role) ?? linkSourceFor(device, role, toward, clock),
      // TLS uplinks: each one's CA and client certificate, for connections to its peer.
      transport: sip.transport,
    });
    const pbx = new Pbx({
      ua,
      transport: sip.transport,
      relay,
      clock,
      logger: options.logger,
      location,
      registrar,
      auth,
      throttle,
      directory: () => live.directory,
      codecs: () => live.practice?.sip.codecs ?? ['PCMA', 'PCMU', 'G722'],
      routes: uplinks,
      outsideLinePrefix: () => live.practice?.dialPlan.outsideLinePrefix,
    });
    ua.delegate = pbx;
    ota.bindPbx(pbx);
    // Not awaited: a slow DNS answer for an uplink must not hold up the phones' registrar.
    void uplinks.start().catch((err: unknown) => log.error({ err }, 'uplinks failed to start'));
    cleanups.unshift(() => uplinks.stop());
    // A pushed practice reaches the uplinks after the directory (APPLY_STEPS: extensions, huntGroups, uplinks).
    const applier: PracticeApplier = {
      current: () => live.current(),
      apply: async (next, applyOptions) => {
        const result = await live.apply(next, applyOptions);
        if (result.ok) await uplinks.apply(next);
        return result;
      },
    };

    // The booted slot as the slot backend tells it, and the version it runs.
    const firmware = ota.firmware;
    const startedAt = clock.now();
    const status: StatusProvider = {
      status: (): GatewayStatus => statusOf({ practice: live.practice, device, firmware, location, pbx, uplinks, startedAt, clock, media }),
      registrations: (): RegistrationView[] => registrationViews(location, clock),
      // One snapshot of the relay's counters, so each call's in and out agree exactly.
      calls: async (): Promise<CallView[]> => {
        const media = await relay.snapshot();
        return pbx.activeCalls().map((call) => callView(call, media));
      },
      appliedConfig: () => {
        const p = live.practice;
        return p ? { version: p.version, appliedAt: null, practice: p } : null;
      },
      hardware: () => hardware.view(),
      ports: () => hardware.ports(),
    };
    const admin: AdminServer = await createAdminServer({ listen: device.admin.listen, status, logger: options.logger });
    cleanups.unshift(() => admin.close());
    let cloudConnected = (): boolean => false;
    ota.bindHealth({ sip: sip.transport.listening(), adminUrl: admin.url(), cloudConnected: () => cloudConnected() });

    // Cloud sync (issue 3): only when the device has a cloud; it never waits for the broker.
    let sync: CloudSync | null = null;
    if (device.cloud) {
      sync = createCloudSync({
        deviceId: device.id,
        cloud: device.cloud,
        dataDir: options.dataDir,
        applier,
        lastKnownGood: lastKnownGoodFromPracticeStore(store),
        status,
        failover: uplinks.failoverTest,
        // One health sampler for the admin API, the panel, the alarms and the telemetry (issue 5).
        telemetry: hardware.telemetry(),
        clock,
        logger: options.logger,
      });
      const s = sync;
      pbx.onCallEvent((e) => {
        s.publishEvent(callEventFor(e));
        s.statusChanged();
        if (e.type === 'ended') void s.recordCall(callRecordFor(e.call, e.end, e.route)).catch((err: unknown) => log.error({ err }, 'call record not stored'));
      });
      location.onChange(() => s.statusChanged());
      uplinks.on('mode', (m) => {
        s.publishEvent({ type: 'mode', mode: m.mode, previous: m.previous, reason: m.reason, at: new Date(m.at).toISOString() });
        s.statusChanged();
      });
      uplinks.on('uplink', () => s.statusChanged());
      ota.bindConnection(s.connection);
      cloudConnected = () => s.connection.connected;
      await s.start();
      cleanups.unshift(() => s.stop());
    }

    // Factory reset (issue 5): the panel's two holds, and `pgw factory-reset` on the control socket.
    const syncNow = sync;
    const reset = await startGatewayFactoryReset({
      paths: resetPaths,
      board: hardware.board,
      env: process.env,
      clock,
      logger: options.logger,
      activeCalls: () => pbx.activeCalls().length,
      holdCalls: () => pbx.stopAcceptingCalls(),
      resumeCalls: () => pbx.resumeAcceptingCalls(),
      otaState: () => ota.agent?.state ?? null,
      quiesce: async () => {
        ota.closeCallGuard();
        await ota.stop();
        await syncNow?.stop();
        await store.close();
      },
    });
    cleanups.unshift(() => reset.close());

    // Last: the watchdog keeper's first pet (systemd's READY=1) means the gateway is ready.
    await hardware.bind({
      status: () => status.status(),
      registrations: () => location.all().map((b) => ({ extension: b.aor, sourceIp: b.source.address })),
      sipListening: () => sip.transport.listening().length,
      adminUrl: admin.url(),
      dataDir: options.dataDir,
      ota: () => ota.agent?.report() ?? null,
      onFactoryReset: () => reset.fromPanel(),
      ...(syncNow ? { publishAlarm: (e) => syncNow.publishEvent({ type: 'alarm', ...e }) } : {}),
    });
    uplinks.on('mode', () => hardware.notify());
    location.onChange(() => hardware.notify());

    const sipListening = sip.transport.listening();
    log.info(
      {
        domain: live.directory.domain,
        sip: sipListening.map((e) => `${e.protocol}:${e.address}:${e.port}`),
        admin: `${admin.url()}/api/v1/status`,
        extensions: live.directory.extensions.size,
        configVersion: practice?.version ?? null,
      },
      `ready: phones register to ${live.directory.domain} (or this box's address) on port ${sipListening[0]?.port ?? '?'}; admin API at ${admin.url()}/api/v1/status`,
    );

    let stopped: Promise<void> | null = null;
    return {
      adminUrl: admin.url(),
      sipListening,
      get practice() {
        return live.practice;
      },
      stop: () => {
        stopped ??= (async () => {
          // The update agent first, so it never acts on the calls ending below (an install, a reboot);
          // and no OTA hold released while stopping may make the PBX take calls again.
          ota.closeCallGuard();
          await ota.stop().catch((err: unknown) => log.warn({ err }, 'the OTA agent did not stop cleanly'));
          pbx.stopAcceptingCalls();
          const calls = pbx.activeCalls().length;
          if (calls > 0) {
            log.info({ calls }, 'stopping: ending calls in progress');
            pbx.hangupAll('shutdown');
            // Give the BYEs a moment to leave before the sockets close.
            await new Promise((r) => setTimeout(r, 300));
          }
          for (const c of cleanups) await c().catch((err: unknown) => log.warn({ err }, 'error while stopping'));
          await store.close();
          log.info('stopped');
        })();
        return stopped;
      },
    };
  } catch (e) {
    for (const c of cleanups) await c().catch(() => undefined);
    await store.close();
    throw e;
  }
}

/** The newer of the file's practice and the store's last applied one; a newer file practice is applied and kept. */
async function choosePractice(store: PracticeStore, fromFile: Practice | undefined, log: Logger): Promise<Practice | null> {
  const stored = await store.load().catch((err: unknown) => {
    log.error({ err }, 'the stored practice could not be read; using the file');
    return null;
  });
  if (fromFile && (!stored || fromFile.version > stored.version)) {
    await store.saveApplied(fromFile);
    log.info({ version: fromFile.version, previous: stored?.version ?? null }, 'practice config from the file applied');
    return fromFile;
  }
  if (stored) {
    log.info({ version: stored.version }, 'running on the last applied practice config');
    return stored.practice;
  }
  log.warn('no practice config yet: registrar runs with no extensions until one arrives');
  return null;
}

function statusOf(ctx: {
  practice: Practice | null;
  device: Device;
  firmware: { version: string; slot: string };
  location: LocationService;
  pbx: Pbx;
  uplinks: UplinkManager;
  startedAt: number;
  clock: Clock;
  media: GatewayMedia;
}): GatewayStatus {
  const { mode, uplinks } = ctx.uplinks.status();
  return {
    mode,
    configVersion: ctx.practice?.version ?? null,
    uplinks,
    registrations: ctx.location.count(),
    activeCalls: ctx.pbx.activeCalls().length,
    firmware: ctx.firmware,
    deviceId: ctx.device.id,
    uptimeSeconds: Math.round((ctx.clock.now() - ctx.startedAt) / 1000),
    media: {
      workers: ctx.media.workers,
      kernelForwarding: ctx.media.kernelForwarding,
      kernelLegs: ctx.media.anchor.stats().filter((l) => l.forwarding === 'kernel').length,
    },
  };
}

/**
 * The watch of the interface an uplink leaves by: the one `device.interfaces`
 * names for its role, else the one the routing table sends its peer's address
 * through (CONTRACT.md); none found: not watched (probes alone tell).
 */
function linkSourceFor(device: Device, role: InterfaceRole, toward: string, clock: Clock): LinkStateSource {
  const iface = device.interfaces?.[role] ?? interfaceToward(toward);
  return iface ? new SysfsLinkWatcher({ clock, iface }) : new AlwaysUpLink();
}

function registrationViews(location: LocationService, clock: Clock): RegistrationView[] {
  const now = clock.now();
  return location.all().map((b) => ({
    extension: b.aor,
    contact: b.contact,
    source: `${b.source.address}:${b.source.port}`,
    transport: b.source.protocol,
    expiresIn: Math.max(0, Math.round((b.expiresAt - now) / 1000)),
    userAgent: b.userAgent ?? null,
  }));
}

function callView(call: B2buaCall, media: ReadonlyMap<RelayLeg, LegStats>): CallView {
  const leg = (side: 'a' | 'b', peer: string, state: string) => ({
    id: `${call.id}/${side}`,
    role: side === 'a' ? ('caller' as const) : ('callee' as const),
    peer,
    state,
    media: mediaView(call.mediaLeg(side), media),
  });
  const sessions = call.sessions();
  return {
    id: call.id,
    from: call.caller,
    to: call.callee,
    state: call.state === 'routing' ? 'setup' : call.state === 'ended' ? 'ending' : call.state,
    startTime: new Date(call.startedAt).toISOString(),
    answerTime: call.answeredAt === null ? null : new Date(call.answeredAt).toISOString(),
    legs: [leg('a', call.caller.number, sessions.a.state), ...(sessions.b ? [leg('b', call.callee.number, sessions.b.state)] : [])],
  };
}

function mediaView(leg: RelayLeg | null, media: ReadonlyMap<RelayLeg, LegStats>): CallView['legs'][number]['media'] {
  if (!leg) return null;
  const s = media.get(leg) ?? leg.stats();
  return {
    codec: s.codec,
    local: `${s.localAddress}:${s.rtpPort}`,
    remote: s.latched ? `${s.latched.address}:${s.latched.port}` : null,
    sdpRemote: s.remote ? `${s.remote.address}:${s.remote.port}` : null,
    packetsIn: s.rx.packets,
    packetsOut: s.tx.packets,
    bytesIn: s.rx.bytes,
    bytesOut: s.tx.bytes,
    packetsLost: s.rx.lost,
    forwarding: s.forwarding,
  };
}

