import type { BoardProfile } from './board-profile.js';

/**
 * Fanless x86 appliance (two Intel i226 NICs, an M.2 Quectel EG25, a
 * 16-port PoE switch board on the second on-board UART). GRUB boots the A/B
 * roots (grubenv on the ESP); the chipset watchdog (iTCO_wdt) is petted
 * by systemd.
 */
export const x86Poe: BoardProfile = {
  name: 'x86-poe',
  description: 'x86 PoE appliance: 20x4 panel, 16-port PoE controller, Quectel EG25',
  arch: 'amd64',
  panel: { path: '/dev/pgw-panel', baudRate: 115200, cols: 20, rows: 4 },
  modem: { path: '/dev/pgw-modem-at', baudRate: 115200, netInterface: 'wwan0', servingCell: true },
  poe: { path: '/dev/pgw-poe', baudRate: 115200, ports: 16, budgetMw: 240_000 },
  watchdog: { kind: 'systemd', hardware: '/dev/watchdog0' },
  slots: {
    kind: 'grub',
    envFile: '/boot/efi/grub/grubenv',
    rootDevices: { a: '/dev/disk/by-partlabel/root-a', b: '/dev/disk/by-partlabel/root-b' },
  },
  interfaces: { lan: 'enp1s0', hscn: 'enp2s0', wan: 'wwan0' },
  fan: null,
  thresholds: { temperatureHighC: 85, temperatureClearC: 80, temperatureCriticalC: 95 },
};
