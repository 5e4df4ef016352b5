import type { BoardProfile } from './board-profile.js';

/**
 * A development rig: every device is a simulator on a pseudo-terminal made
 * by `node --import tsx hw/sim/run-simulators.ts` (default directory
 * /run/pgw-sim), so `pgw run` shows its front panel and drives a modem and
 * PoE ports on a laptop.
 */
export const DEV_SIM_DIR = '/run/pgw-sim';

export const devSim: BoardProfile = {
  name: 'dev-sim',
  description: 'Development rig: simulated panel, modem and PoE controller on ptys in /run/pgw-sim',
  arch: 'amd64',
  panel: { path: `${DEV_SIM_DIR}/panel`, baudRate: 115200, cols: 20, rows: 4 },
  modem: { path: `${DEV_SIM_DIR}/modem`, baudRate: 115200, netInterface: 'lo', servingCell: true },
  poe: { path: `${DEV_SIM_DIR}/poe`, baudRate: 115200, ports: 8, budgetMw: 120_000 },
  watchdog: { kind: 'none' },
  slots: { kind: 'file', layout: 'image' },
  interfaces: {},
  fan: null,
  thresholds: {},
};
