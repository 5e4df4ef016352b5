/**
 * The board profiles this firmware knows, by the name `device.board` uses.
 */
import { PgwError } from '../../firmware/src/util/errors.js';
import type { SlotBackendConfig } from '../slots/index.js';
import type { BoardProfile } from './board-profile.js';
import { devSim } from './dev-sim.js';
import { generic } from './generic.js';
import { rpi4Poe } from './rpi4-poe.js';
import { rpi5Poe } from './rpi5-poe.js';
import { x86Poe } from './x86-poe.js';

export type { BoardProfile } from './board-profile.js';

export const BOARDS: Readonly<Record<string, BoardProfile>> = Object.freeze({
  [generic.name]: generic,
  [rpi4Poe.name]: rpi4Poe,
  [rpi5Poe.name]: rpi5Poe,
  [x86Poe.name]: x86Poe,
  [devSim.name]: devSim,
});

export function boardNames(): string[] {
  return Object.keys(BOARDS);
}

export function boardProfile(name: string): BoardProfile {
  const b = Object.hasOwn(BOARDS, name) ? BOARDS[name] : undefined;
  if (!b) {
    throw new PgwError('PGW_E_HW_BOARD', `unknown board "${name}" (known: ${boardNames().join(', ')})`, { context: { board: name } });
  }
  return b;
}

/**
 * The network roles in force: the board's defaults, each overridden by
 * `device.interfaces` where the installer set it.
 */
export function interfaceRoles(board: BoardProfile, configured: { lan?: string; hscn?: string; wan?: string } | undefined): {
  lan?: string;
  hscn?: string;
  wan?: string;
} {
  return { ...board.interfaces, ...Object.fromEntries(Object.entries(configured ?? {}).filter(([, v]) => v !== undefined)) };
}

/** The hw/slots backend config of a board; `file` slots live under the data directory. */
export function slotBackendConfig(board: BoardProfile, options: { dataDir: string }): SlotBackendConfig {
  const s = board.slots;
  switch (s.kind) {
    case 'file':
      return { kind: 'file', root: `${options.dataDir}/slots-sim`, layout: s.layout };
    case 'grub':
      return { kind: 'grub', envFile: s.envFile, slots: { a: { rootDevice: s.rootDevices.a }, b: { rootDevice: s.rootDevices.b } } };
    case 'rpi-tryboot':
      return { kind: 'rpi-tryboot', autobootDir: s.autobootDir, slots: s.slots };
    default: {
      const never: never = s;
      return never;
    }
  }
}
