/**
 * The cloud's `telemetry` from the box's one health sampler (issue 5): the
 * HealthMonitor that feeds the admin API, the front panel and the alarms
 * also feeds the sync's TelemetrySource port (firmware/src/sync/ports.ts),
 * so systeminformation is read once per period, not twice, and the
 * telemetry carries what only the hardware knows: the fan, the PoE budget
 * and the 4G modem.
 *
 * The payload keeps every field SystemTelemetry sends (cpu, memory, disks,
 * interfaces, uptimeSeconds) and adds `fanRpm`, `poe` and `modem` (null on a
 * board without them), so the cloud reads one shape from every board.
 */
import { loadavg, uptime } from 'node:os';
import type { HealthSnapshot } from '../../../hw/health/health-sampler.js';
import type { LinkHealth } from '../../../hw/modem/link-health.js';
import type { ModemStatus } from '../../../hw/modem/modem-monitor.js';
import type { TelemetrySample } from '../sync/payloads.js';
import type { TelemetrySource } from '../sync/ports.js';

export interface ModemTelemetry {
  up: boolean;
  reason: LinkHealth['reason'];
  signalBars: number;
  rssiDbm: number | null;
  rsrpDbm: number | null;
  sinrDb: number | null;
  tech: string | null;
  operator: string | null;
  /** What the data-path probe last said (device.modem.dataProbe); `unknown` without one. */
  dataPath: ModemStatus['dataPath'];
  resets: number;
}

export interface HardwareTelemetrySample extends TelemetrySample {
  /** null: the board has no fan sensor. */
  fanRpm: number | null;
  /** null: no PoE controller (or it did not answer). */
  poe: { usedMw: number; maxMw: number } | null;
  /** null: no 4G modem. */
  modem: ModemTelemetry | null;
}

export interface HealthTelemetryOptions {
  /** The health monitor's latest sample. */
  latest: () => HealthSnapshot | null;
  /** Takes a sample now (through the same monitor, so its alarms see it too). */
  sampleNow: () => Promise<HealthSnapshot | null>;
  /** A latest sample older than this is taken again before it is sent (default 90 s: three health periods). */
  maxAgeMs?: number;
  now: () => number;
  modem: () => { health: LinkHealth; status: ModemStatus } | null;
  /** For tests; default os.loadavg()[0] and os.uptime(). */
  load1?: () => number;
  uptimeSeconds?: () => number;
}

export function healthTelemetrySource(o: HealthTelemetryOptions): TelemetrySource {
  const maxAge = o.maxAgeMs ?? 90_000;
  return {
    async sample(): Promise<HardwareTelemetrySample> {
      let h = o.latest();
      if (!h || o.now() - h.at > maxAge) h = (await o.sampleNow()) ?? h;
      return telemetryFromHealth(h, o.modem(), { load1: o.load1?.() ?? loadavg()[0] ?? NaN, uptimeSeconds: o.uptimeSeconds?.() ?? uptime() });
    },
  };
}

/** The telemetry shape of a health sample (null: nothing could be sampled yet). */
export function telemetryFromHealth(
  h: HealthSnapshot | null,
  modem: { health: LinkHealth; status: ModemStatus } | null,
  os: { load1: number; uptimeSeconds: number },
): HardwareTelemetrySample {
  return {
    cpu: {
      loadPercent: h?.cpu.loadPercent ?? null,
      load1: Number.isFinite(os.load1) ? Math.round(os.load1 * 100) / 100 : null,
      temperatureC: h?.cpu.temperatureC ?? null,
    },
    memory: {
      totalBytes: h?.memory.totalBytes ?? 0,
      usedBytes: h ? h.memory.totalBytes - h.memory.availableBytes : 0,
      availableBytes: h?.memory.availableBytes ?? 0,
    },
    disks: (h?.disks ?? []).map((d) => ({ mount: d.mount, sizeBytes: d.sizeBytes, usedBytes: d.usedBytes, availableBytes: d.availableBytes, usePercent: d.usePercent })),
    interfaces: (h?.interfaces ?? []).map((i) => ({ name: i.name, state: i.state, speedMbps: i.speedMbps, ...(i.role ? { role: i.role } : {}) })),
    uptimeSeconds: Math.round(os.uptimeSeconds),
    fanRpm: h?.fanRpm ?? null,
    poe: h?.poe ? { usedMw: h.poe.usedMw, maxMw: h.poe.maxMw } : null,
    modem: modem
      ? {
          up: modem.health.up,
          reason: modem.health.reason,
          signalBars: modem.health.signalBars,
          rssiDbm: modem.health.rssiDbm,
          rsrpDbm: modem.status.signal.rsrp,
          sinrDb: modem.status.signal.sinrDb,
          tech: modem.health.tech,
          operator: modem.health.operator,
          dataPath: modem.status.dataPath,
          resets: modem.status.resets,
        }
      : null,
  };
}
