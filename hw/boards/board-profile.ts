/**
 * A board profile says which devices a box has and where they are; the
 * gateway file's `device.board` picks one (firmware/src/config/device-schema.ts).
 * Device paths are the stable names the image's udev rules make
 * (image/rootfs/etc/udev/rules.d/70-pgw-devices.rules), so a profile does
 * not depend on enumeration order.
 */
import type { AlarmThresholds } from '../health/alarm-rules.js';

export interface SerialDeviceRef {
  path: string;
  baudRate: number;
}

export interface PanelRef extends SerialDeviceRef {
  /** The size the panel should report in its HELLO; the driver believes the panel. */
  cols: number;
  rows: number;
}

export interface ModemRef extends SerialDeviceRef {
  /** The modem's network interface (QMI/MBIM/ECM), the trunk's way out over 4G. */
  netInterface: string;
  /** Ask AT+QENG="servingcell" (Quectel only). */
  servingCell: boolean;
}

export interface PoeRef extends SerialDeviceRef {
  ports: number;
  budgetMw: number;
}

/**
 * `systemd`: the service watchdog (WatchdogSec=, sd_notify); systemd pets
 * the hardware device itself (RuntimeWatchdogSec=). `dev`: the gateway
 * holds the hardware device open and pets it. `none`: development.
 */
export type WatchdogRef = { kind: 'systemd'; hardware: string | null } | { kind: 'dev'; path: string } | { kind: 'none' };

/** Names the slot backend in hw/slots and where its pieces are. */
export type SlotsRef =
  | { kind: 'file'; layout: 'dir' | 'image' }
  | { kind: 'grub'; envFile: string; rootDevices: { a: string; b: string } }
  | { kind: 'rpi-tryboot'; autobootDir: string; slots: { a: { bootPartition: number; rootDevice: string }; b: { bootPartition: number; rootDevice: string } } };

export interface BoardProfile {
  name: string;
  description: string;
  /** Debian architecture of the image. */
  arch: 'arm64' | 'amd64';
  panel: PanelRef | null;
  modem: ModemRef | null;
  poe: PoeRef | null;
  watchdog: WatchdogRef;
  slots: SlotsRef;
  /** Default network roles; `device.interfaces` overrides each one given. */
  interfaces: { lan?: string; hscn?: string; wan?: string };
  /** hwmon `name` of the fan sensor, or null. */
  fan: { hwmon: string } | null;
  thresholds: Partial<AlarmThresholds>;
}
