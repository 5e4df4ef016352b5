/**
 * Opens the devices a board profile names, for the composition root
 * (firmware/src/gateway.ts). A device that is missing or does not answer is
 * logged and left out (null): a box with a broken panel still routes calls.
 * Nothing is started here; the caller starts the modem monitor, the panel
 * controller, the health monitor and the watchdog keeper it wants.
 */
import type { Clock } from '../firmware/src/util/clock.js';
import type { Logger } from '../firmware/src/util/logger.js';
import type { BoardProfile } from './boards/board-profile.js';
import { DEFAULT_THRESHOLDS, defaultRules, AlarmEvaluator } from './health/alarm-rules.js';
import { HealthSampler, hwmonFanReader } from './health/health-sampler.js';
import { ModemMonitor } from './modem/modem-monitor.js';
import type { FrontPanel } from './panel/front-panel.js';
import { openSerialFrontPanel } from './panel/serial-front-panel.js';
import type { PoeController } from './poe/poe-controller.js';
import { openSerialPoeController } from './poe/serial-poe-controller.js';
import { openSerialLineLink } from './serial/serial-line-link.js';
import { SocatNotifySender } from './watchdog/notify-sender.js';
import { DevWatchdog, NoWatchdog, SystemdWatchdog, systemdWatchdogIntervalMs } from './watchdog/watchdog-device.js';
import type { WatchdogDevice } from './watchdog/watchdog-device.js';

export interface HardwareOptions {
  board: BoardProfile;
  clock: Clock;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** For the modem monitor: does data pass over the modem? (hw/modem/data-probe.ts) */
  modemDataProbe?: () => Promise<boolean>;
  /** The probe's own period, failures before a reset and timeout (ModemMonitorOptions). */
  modemProbe?: { intervalMs: number; failAfter: number; timeoutMs: number };
  /** Board hook that cuts the modem's power (a GPIO on the carrier), if there is one. */
  modemPowerCycle?: () => Promise<void>;
}

export interface Hardware {
  board: BoardProfile;
  panel: FrontPanel | null;
  /** Created, not started. */
  modem: ModemMonitor | null;
  poe: PoeController | null;
  watchdog: WatchdogDevice;
  /** How often to pet `watchdog`. */
  watchdogIntervalMs: number;
  close(): Promise<void>;
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The watchdog to pet. Under systemd (NOTIFY_SOCKET set) systemd is told,
 * whatever the board: READY=1 ends a Type=notify unit's start-up, and
 * WATCHDOG=1 pets its WatchdogSec= (ignored when the unit has none). A board
 * with a bare /dev/watchdog pets that instead; otherwise nobody is told.
 */
export function createWatchdogDevice(board: BoardProfile, env: NodeJS.ProcessEnv): { device: WatchdogDevice; intervalMs: number } {
  const w = board.watchdog;
  const none = { device: new NoWatchdog(), intervalMs: 10_000 };
  const systemd = (): { device: WatchdogDevice; intervalMs: number } | null => {
    if (!env.NOTIFY_SOCKET) return null;
    // Without WatchdogSec= there is no deadline; pet at a relaxed pace anyway (harmless, and READY=1 still matters).
    const interval = systemdWatchdogIntervalMs(env) ?? 10_000;
    return { device: new SystemdWatchdog(new SocatNotifySender({ socket: env.NOTIFY_SOCKET })), intervalMs: interval };
  };
  switch (w.kind) {
    case 'systemd':
    case 'none':
      return systemd() ?? none;
    case 'dev':
      // Most hardware watchdogs default to a 30..60 s timeout; 5 s petting leaves room for a slow tick.
      return { device: new DevWatchdog(w.path), intervalMs: 5_000 };
    default: {
      const never: never = w;
      return never;
    }
  }
}

export async function openHardware(options: HardwareOptions): Promise<Hardware> {
  const { board, clock, logger } = options;
  const log = logger.child({ component: 'hw' });
  let panel: FrontPanel | null = null;
  if (board.panel) {
    const ref = board.panel;
    try {
      const link = await openSerialLineLink({ path: ref.path, baudRate: ref.baudRate, lineEnding: '\n' });
      try {
        panel = await openSerialFrontPanel({ link, clock });
      } catch (err) {
        await link.close();
        throw err;
      }
    } catch (err) {
      log.warn({ err: msg(err), path: ref.path }, 'front panel not available');
    }
  }
  let poe: PoeController | null = null;
  if (board.poe) {
    const ref = board.poe;
    try {
      const link = await openSerialLineLink({ path: ref.path, baudRate: ref.baudRate, lineEnding: '\n' });
      try {
        poe = await openSerialPoeController({ link, clock });
      } catch (err) {
        await link.close();
        throw err;
      }
    } catch (err) {
      log.warn({ err: msg(err), path: ref.path }, 'PoE controller not available');
    }
  }
  let modem: ModemMonitor | null = null;
  if (board.modem) {
    const ref = board.modem;
    modem = new ModemMonitor({
      // AT commands end with CR (V.250 §5.2.1, S3).
      openLink: () => openSerialLineLink({ path: ref.path, baudRate: ref.baudRate, lineEnding: '\r' }),
      clock,
      logger: logger.child({ component: 'modem' }),
      servingCell: ref.servingCell,
      ...(options.modemDataProbe ? { dataProbe: options.modemDataProbe } : {}),
      ...(options.modemProbe
        ? { probeIntervalMs: options.modemProbe.intervalMs, deadAfter: options.modemProbe.failAfter, probeTimeoutMs: options.modemProbe.timeoutMs + 1000 }
        : {}),
      ...(options.modemPowerCycle ? { powerCycle: options.modemPowerCycle } : {}),
    });
  }
  const wd = createWatchdogDevice(board, options.env ?? process.env);
  return {
    board,
    panel,
    modem,
    poe,
    watchdog: wd.device,
    watchdogIntervalMs: wd.intervalMs,
    async close() {
      await modem?.stop();
      await panel?.close().catch(() => undefined);
      await poe?.close().catch(() => undefined);
    },
  };
}

/** A health sampler wired to the board's fan and PoE controller. */
export function createHealthSampler(hw: Pick<Hardware, 'board' | 'poe'>, options: { now: () => number; interfaceRoles?: Record<string, string>; dataMount?: string }): HealthSampler {
  return new HealthSampler({
    now: options.now,
    ...(options.interfaceRoles ? { interfaceRoles: options.interfaceRoles } : {}),
    ...(hw.board.fan ? { readFanRpm: hwmonFanReader(hw.board.fan.hwmon) } : {}),
    ...(hw.poe ? { readPoeBudget: () => hw.poe!.budget() } : {}),
  });
}

/** The alarm evaluator with the board's thresholds. */
export function createAlarmEvaluator(board: BoardProfile, dataMount = '/data'): AlarmEvaluator {
  return new AlarmEvaluator(defaultRules({ ...DEFAULT_THRESHOLDS, ...board.thresholds, dataMount }));
}
