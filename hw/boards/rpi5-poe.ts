import type { BoardProfile } from './board-profile.js';
import { rpi4Poe } from './rpi4-poe.js';

/**
 * Raspberry Pi 5 on the practice-gateway carrier: as the Pi 4 board, but
 * the 40-pin UARTs are ttyAMA0 (panel) and ttyAMA2 (PoE, dtoverlay=uart2-pi5);
 * RP1's watchdog is petted by systemd. The official active cooler
 * reports its fan as hwmon `pwmfan`.
 */
export const rpi5Poe: BoardProfile = {
  // Same carrier, devices (udev names the UARTs /dev/pgw-*), slots and interfaces as the Pi 4.
  ...rpi4Poe,
  name: 'rpi5-poe',
  description: 'Raspberry Pi 5 PoE carrier: 20x4 panel, 8-port PoE controller, Quectel EC25',
  // The Pi 5 runs hotter under load and throttles later (85 °C).
  thresholds: { temperatureHighC: 75, temperatureClearC: 70, temperatureCriticalC: 82 },
};
