import type { BoardProfile } from './board-profile.js';

/**
 * Raspberry Pi 4 on the practice-gateway carrier: front panel on UART0
 * (GPIO 14/15, Bluetooth moved off it with dtoverlay=disable-bt), PoE
 * controller on UART3 (dtoverlay=uart3, GPIO 4/5), Quectel EC25 on USB,
 * on-board Ethernet to the phones' PoE switch, a USB 3 NIC to HSCN.
 * The BCM2835 watchdog is petted by systemd (RuntimeWatchdogSec=15s; its
 * maximum timeout is about 15 s). The board throttles at 80 °C, so the
 * alarm thresholds sit below that.
 */
export const rpi4Poe: BoardProfile = {
  name: 'rpi4-poe',
  description: 'Raspberry Pi 4 PoE carrier: 20x4 panel, 8-port PoE controller, Quectel EC25',
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
  thresholds: { temperatureHighC: 72, temperatureClearC: 67, temperatureCriticalC: 80 },
};
