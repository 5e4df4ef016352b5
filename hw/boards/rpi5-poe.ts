import type { BoardProfile } from './board-profile.js';

/**
 * Raspberry Pi 5 on the practice-gateway carrier: as the Pi 4 board, but
 * the 40-pin UARTs are ttyAMA0 (panel) and ttyAMA2 (PoE, dtoverlay=uart2-pi5);
 * RP1's watchdog is petted by systemd. The official active cooler
 * reports its fan as hwmon `pwmfan`.
 */
export const rpi5Poe: BoardProfile = {
  name: 'rpi5-poe',
  description: 'Raspberry Pi 5 PoE carrier: 20x4 panel, 8-port PoE controller, Quectel EC25',
  arch: 'arm64',
  panel: { path: '/dev/pgw-panel', baudRate: 115200, cols: 20, rows: 4 },
  modem: { path: '/dev/pgw-modem-at', baudRate: 115200, netInterface: 'wwan0', servingCell: true },
  poe: { path: '/dev/pgw-poe', baudRate: 115200, ports: 8, budgetMw: 120_000 },
  watchdog: { kind: 'systemd', hardware: '/dev/watchdog0' },
  slots: {
    kind: 'rpi-tryboot',
    autobootDir: '/boot/autoboot',
    slots: {
      a: { bootPartition: 2, rootDevice: '/dev/disk/by-partlabel/root-a' },
      b: { bootPartition: 3, rootDevice: '/dev/disk/by-partlabel/root-b' },
    },
  },
  interfaces: { lan: 'eth0', hscn: 'eth1', wan: 'wwan0' },
  fan: { hwmon: 'pwmfan' },
  thresholds: { temperatureHighC: 75, temperatureClearC: 70, temperatureCriticalC: 82 },
};
