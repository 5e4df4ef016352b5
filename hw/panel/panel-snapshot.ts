/**
 * Builds the panel's PanelSnapshot from what the gateway already has: its
 * status (the admin API's GatewayStatus shape), the latest health sample,
 * the active alarms, the modem's LinkHealth, the OTA progress and the claim
 * code. The composition root calls it in the panel controller's `snapshot`.
 */
import type { ActiveAlarm } from '../health/alarm-rules.js';
import type { HealthSnapshot } from '../health/health-sampler.js';
import type { LinkHealth } from '../modem/link-health.js';
import type { PanelSnapshot } from './panel-pages.js';

export interface PanelSources {
  deviceId: string;
  status: {
    mode: 'normal' | 'survivability';
    uplinks: ReadonlyArray<{ name: string; state: string }>;
    registrations: number;
    activeCalls: number;
  };
  health: HealthSnapshot | null;
  alarms: readonly ActiveAlarm[];
  modem: LinkHealth | null;
  ota?: { state: string; version?: string; percent?: number } | null;
  claimCode?: string | null;
  /** The mount whose free space the system page shows. */
  dataMount?: string;
}

export function panelSnapshotFrom(s: PanelSources): PanelSnapshot {
  const h = s.health;
  const mount = s.dataMount ?? '/data';
  const disk = h ? (h.disks.find((d) => d.mount === mount) ?? h.disks.find((d) => d.mount === '/')) : undefined;
  // Critical first: a 2-row panel shows the worst one.
  const alarms = [...s.alarms].sort((a, b) => (a.severity === b.severity ? a.since - b.since : a.severity === 'critical' ? -1 : 1));
  return {
    deviceId: s.deviceId,
    mode: s.status.mode,
    uplinks: s.status.uplinks.map((u) => ({ name: u.name, state: u.state })),
    registrations: s.status.registrations,
    activeCalls: s.status.activeCalls,
    addresses: (h?.interfaces ?? [])
      .filter((i) => i.addresses.length > 0)
      .map((i) => ({ name: i.name, ...(i.role ? { role: i.role } : {}), address: i.addresses.find((a) => !a.includes(':')) ?? i.addresses[0]! })),
    alarms: alarms.map((a) => ({ alarm: a.alarm, severity: a.severity, message: a.message })),
    ota: s.ota ?? null,
    claimCode: s.claimCode ?? null,
    modem: s.modem ? { up: s.modem.up, reason: s.modem.reason, bars: s.modem.signalBars, operator: s.modem.operator } : null,
    health: h
      ? {
          loadPercent: h.cpu.loadPercent,
          temperatureC: h.cpu.temperatureC,
          diskFreePercent: disk && disk.sizeBytes > 0 ? (disk.availableBytes / disk.sizeBytes) * 100 : null,
        }
      : null,
  };
}
