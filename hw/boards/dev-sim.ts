import type { BoardProfile } from './board-profile.js';

/**
 * A development rig: every device is a simulator on a pseudo-terminal made
 * by `node --import tsx hw/sim/run-simulators.ts` (default directory
 * /run/pgw-sim), so `pgw run` shows its front panel and drives a modem and
 * PoE ports on a laptop.
 */
export const DEV_SIM_DIR = '/run/pgw-sim';

/**
 * The rig's profile with its ptys in `dir` (`run-simulators.ts --dir`); the
 * gateway takes the directory from `PGW_SIM_DIR` (tests run one rig each).
 */
export function devSimAt(dir: string): BoardProfile {
  return {
    name: 'dev-sim',
    description: `Development rig: simulated panel, modem and PoE controller on ptys in ${dir}`,
    arch: 'amd64',
    panel: { path: `${dir}/panel`, baudRate: 115200, cols: 20, rows: 4 },
    modem: { path: `${dir}/modem`, baudRate: 115200, netInterface: 'lo', servingCell: true },
    poe: { path: `${dir}/poe`, baudRate: 115200, ports: 8, budgetMw: 120_000 },
    watchdog: { kind: 'none' },
    slots: { kind: 'file', layout: 'image' },
    interfaces: {},
    fan: null,
    thresholds: {},
  };
}

export const devSim: BoardProfile = devSimAt(DEV_SIM_DIR);
