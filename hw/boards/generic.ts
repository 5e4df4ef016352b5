import type { BoardProfile } from './board-profile.js';

/**
 * Any x86 box or VM (CONTRACT.md: the default board). No front panel, modem
 * or PoE control; the service watchdog when systemd offers one; slots as
 * files under the data directory (development), interfaces from the routing table.
 */
export const generic: BoardProfile = {
  name: 'generic',
  description: 'Any Linux box or VM: no front panel, modem or PoE control',
  arch: 'amd64',
  panel: null,
  modem: null,
  poe: null,
  watchdog: { kind: 'systemd', hardware: null },
  slots: { kind: 'file', layout: 'image' },
  interfaces: {},
  fan: null,
  thresholds: {},
};
