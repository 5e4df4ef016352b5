/**
 * How the board restarts after a factory reset: a box reboots (systemd
 * stops the gateway first, then the kernel reboots, and the box comes up as
 * it left the factory); the dev-sim rig records the request beside its ptys
 * and stops the process as systemd would; a generic board not run by
 * systemd (a developer's `pgw run`) just stops, since rebooting a laptop is
 * nobody's intent.
 */
import { writeFileAtomic } from '../../firmware/src/store/atomic-file.js';
import type { Logger } from '../../firmware/src/util/logger.js';
import type { BoardProfile } from '../boards/board-profile.js';
import { linuxReboot } from '../slots/linux-reboot.js';

/** The file the dev-sim board writes in its rig directory (PGW_SIM_DIR) when asked to reboot. */
export const SIM_REBOOT_REQUEST_FILE = 'reboot-request.json';

export interface BoardRestart {
  /** `reboot`: the whole box; `sim-reboot`: the dev-sim rig's; `process-stop`: only the gateway ends. */
  readonly kind: 'reboot' | 'sim-reboot' | 'process-stop';
  /** Asks for the restart; resolves once asked (the gateway is stopped by SIGTERM after). */
  restart(reason: string): Promise<void>;
}

export interface BoardRestartOptions {
  board: BoardProfile;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Ends this process as systemd would (default: SIGTERM to itself). */
  stopProcess?: () => void;
  /** Runs `systemctl reboot` (default hw/slots linuxReboot). */
  reboot?: () => Promise<void>;
  /** Wall-clock time for the request's record (the injected Clock's now). */
  now: () => number;
}

export function boardRestart(o: BoardRestartOptions): BoardRestart {
  const stop = o.stopProcess ?? (() => process.kill(process.pid, 'SIGTERM'));
  const log = o.logger.child({ component: 'board-restart' });
  const underSystemd = Boolean(o.env.INVOCATION_ID || o.env.NOTIFY_SOCKET);
  if (o.board.name === 'dev-sim') {
    const dir = o.env.PGW_SIM_DIR ?? '/run/pgw-sim';
    return {
      kind: 'sim-reboot',
      async restart(reason) {
        await writeFileAtomic(`${dir}/${SIM_REBOOT_REQUEST_FILE}`, `${JSON.stringify({ reason, at: new Date(o.now()).toISOString(), pid: process.pid })}\n`, { mode: 0o644 });
        log.warn({ reason, dir }, 'simulated board reboot: the gateway stops now');
        stop();
      },
    };
  }
  if (o.board.name === 'generic' && !underSystemd) {
    return {
      kind: 'process-stop',
      async restart(reason) {
        log.warn({ reason }, 'not run by systemd: the gateway stops instead of rebooting the machine; start it again');
        stop();
      },
    };
  }
  return {
    kind: 'reboot',
    async restart(reason) {
      log.warn({ reason }, 'rebooting the box');
      await (o.reboot ?? (() => linuxReboot()))();
    },
  };
}
