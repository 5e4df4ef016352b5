/**
 * Health figures from `systeminformation` (issue 3): CPU load and
 * temperature, memory, disks, interface states. Each figure is read on its
 * own, so a board without a temperature sensor or a VM without `df` still
 * reports the rest (null or empty for what it cannot read).
 */
import { cpuTemperature, currentLoad, fsSize, mem, networkInterfaces } from 'systeminformation';
import { loadavg, uptime } from 'node:os';
import type { TelemetrySample } from './payloads.js';
import type { TelemetrySource } from './ports.js';

export interface SystemTelemetryOptions {
  /** Interface name → role (device.interfaces), so the cloud sees which one is HSCN. */
  interfaceRoles?: Record<string, string>;
  /** Only these mounts (default: every real file system). */
  mounts?: string[];
}

async function settle<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch {
    return undefined;
  }
}

const finite = (n: unknown): number | null => (typeof n === 'number' && Number.isFinite(n) ? n : null);

export class SystemTelemetry implements TelemetrySource {
  constructor(private readonly options: SystemTelemetryOptions = {}) {}

  async sample(): Promise<TelemetrySample> {
    const [load, temp, memory, disks, ifaces] = await Promise.all([
      settle(currentLoad()),
      settle(cpuTemperature()),
      settle(mem()),
      settle(fsSize()),
      settle(networkInterfaces()),
    ]);
    const roles = this.options.interfaceRoles ?? {};
    const mounts = this.options.mounts;
    const temperature = finite(temp?.main);
    return {
      cpu: {
        loadPercent: load ? round1(load.currentLoad) : null,
        load1: round2(loadavg()[0] ?? NaN),
        // systeminformation reports -1 or null when there is no sensor.
        temperatureC: temperature !== null && temperature > -1 ? round1(temperature) : null,
      },
      memory: {
        totalBytes: memory?.total ?? 0,
        usedBytes: memory ? memory.total - memory.available : 0,
        availableBytes: memory?.available ?? 0,
      },
      disks: (disks ?? [])
        .filter((d) => (mounts ? mounts.includes(d.mount) : d.size > 0))
        .map((d) => ({
          mount: d.mount,
          sizeBytes: d.size,
          usedBytes: d.used,
          availableBytes: d.available,
          usePercent: finite(d.use),
        })),
      interfaces: (Array.isArray(ifaces) ? ifaces : [])
        .filter((i) => !i.internal)
        .map((i) => ({
          name: i.iface,
          state: i.operstate || 'unknown',
          speedMbps: finite(i.speed),
          ...(roles[i.iface] ? { role: roles[i.iface] } : {}),
        })),
      uptimeSeconds: Math.round(uptime()),
    };
  }
}

function round1(n: number): number | null {
  return Number.isFinite(n) ? Math.round(n * 10) / 10 : null;
}

function round2(n: number): number | null {
  return Number.isFinite(n) ? Math.round(n * 100) / 100 : null;
}
