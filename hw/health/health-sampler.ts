/**
 * The box's health from `systeminformation`: CPU load and temperature,
 * memory, disks, interfaces with their addresses, plus the fan and the PoE
 * budget where the board has them. One snapshot feeds the admin API, the
 * front panel and the cloud telemetry. Each figure is read on its own, so a
 * VM with no temperature sensor still reports the rest (null for what it
 * cannot read).
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as si from 'systeminformation';
import type { PoeBudget } from '../poe/poe-controller.js';

export interface InterfaceHealth {
  name: string;
  state: string;
  mac: string | null;
  addresses: string[];
  /** Link speed, null when the driver does not say (Wi-Fi, a VM's virtio, wwan). */
  speedMbps: number | null;
  /** lan / hscn / wan, when the board or device config names this interface. */
  role?: string;
}

export interface DiskHealth {
  mount: string;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
  usePercent: number | null;
}

export interface HealthSnapshot {
  /** Clock.now() of the sample. */
  at: number;
  cpu: { loadPercent: number | null; temperatureC: number | null };
  memory: { totalBytes: number; availableBytes: number };
  disks: DiskHealth[];
  interfaces: InterfaceHealth[];
  /** null when the board has no fan sensor. */
  fanRpm: number | null;
  /** null when the board has no PoE controller (or it did not answer). */
  poe: PoeBudget | null;
}

/** The parts of systeminformation used, so tests can inject canned answers. */
export interface SystemInfoApi {
  currentLoad(): Promise<{ currentLoad: number }>;
  cpuTemperature(): Promise<{ main: number | null }>;
  mem(): Promise<{ total: number; available: number }>;
  fsSize(): Promise<Array<{ mount: string; size: number; used?: number; available: number; use: number }>>;
  networkInterfaces(): Promise<
    Array<{ iface: string; operstate: string; mac: string; ip4: string; ip6: string; internal: boolean; speed?: number | null }> | { iface: string }
  >;
}

export interface HealthSamplerOptions {
  now: () => number;
  si?: SystemInfoApi;
  /** Interface name → role. */
  interfaceRoles?: Record<string, string>;
  /** Only these mounts (default: all with a size). */
  mounts?: string[];
  readFanRpm?: () => Promise<number | null>;
  readPoeBudget?: () => Promise<PoeBudget>;
}

async function settle<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch {
    return undefined;
  }
}

const finite = (n: unknown): number | null => (typeof n === 'number' && Number.isFinite(n) ? n : null);
const round1 = (n: number | null): number | null => (n === null ? null : Math.round(n * 10) / 10);

export class HealthSampler {
  private readonly api: SystemInfoApi;

  constructor(private readonly options: HealthSamplerOptions) {
    this.api = options.si ?? (si as unknown as SystemInfoApi);
  }

  async sample(): Promise<HealthSnapshot> {
    const o = this.options;
    const [load, temp, memory, disks, ifaces, fan, poe] = await Promise.all([
      settle(this.api.currentLoad()),
      settle(this.api.cpuTemperature()),
      settle(this.api.mem()),
      settle(this.api.fsSize()),
      settle(this.api.networkInterfaces()),
      o.readFanRpm ? settle(o.readFanRpm()) : Promise.resolve(null),
      o.readPoeBudget ? settle(o.readPoeBudget()) : Promise.resolve(null),
    ]);
    const t = finite(temp?.main);
    const roles = o.interfaceRoles ?? {};
    return {
      at: o.now(),
      cpu: {
        loadPercent: round1(finite(load?.currentLoad)),
        // systeminformation gives -1 or null when there is no sensor.
        temperatureC: t !== null && t > -1 ? round1(t) : null,
      },
      memory: { totalBytes: memory?.total ?? 0, availableBytes: memory?.available ?? 0 },
      disks: (disks ?? [])
        .filter((d) => (o.mounts ? o.mounts.includes(d.mount) : d.size > 0))
        .map((d) => ({ mount: d.mount, sizeBytes: d.size, usedBytes: finite(d.used) ?? d.size - d.available, availableBytes: d.available, usePercent: finite(d.use) })),
      interfaces: (Array.isArray(ifaces) ? ifaces : [])
        .filter((i) => !i.internal)
        .map((i) => ({
          name: i.iface,
          state: i.operstate || 'unknown',
          mac: i.mac || null,
          addresses: [i.ip4, i.ip6].filter((a): a is string => typeof a === 'string' && a.length > 0),
          // systeminformation says -1 or null when the driver reports no speed.
          speedMbps: finite(i.speed) !== null && (i.speed as number) >= 0 ? (i.speed as number) : null,
          ...(roles[i.iface] ? { role: roles[i.iface] } : {}),
        })),
      fanRpm: finite(fan),
      poe: poe ?? null,
    };
  }
}

/**
 * A fan reader over hwmon (Documentation/hwmon/sysfs-interface.rst:
 * fan[1-*]_input in RPM), found by the hwmon device's `name`, e.g. `pwmfan`
 * on a Raspberry Pi fan or `nct6775` on an x86 board.
 */
export function hwmonFanReader(hwmonName: string, root = '/sys/class/hwmon'): () => Promise<number | null> {
  return async () => {
    for (const dir of await readdir(root)) {
      const name = (await settle(readFile(join(root, dir, 'name'), 'utf8')))?.trim();
      if (name !== hwmonName) continue;
      const v = await settle(readFile(join(root, dir, 'fan1_input'), 'utf8'));
      return v === undefined ? null : Number(v.trim());
    }
    return null;
  };
}
