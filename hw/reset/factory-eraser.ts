/**
 * The factory reset's erase, crash-safe (docs/HARDWARE.md "Factory reset";
 * what goes and what stays: erase-plan.ts).
 *
 *   begin: marker written and fsynced (DATA/factory-reset.pending, holding
 *          what the gateway file keeps, read before anything is touched)
 *     │
 *     ▼  complete, in order:
 *   data ──▶ secrets ──▶ identity ──▶ new-identity ──▶ gateway-file ──▶ marker removed
 *
 * A power cut anywhere after `begin` leaves the marker; the next start calls
 * finishPendingFactoryReset() before it reads anything else and runs every
 * step again from the first. Each step is idempotent (removing what is
 * already gone is no error; the identity and the gateway file are written
 * atomically), so running them twice is the same as once. A new identity
 * made by a run that was cut short is simply replaced: nobody saw it.
 */
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { readTextIfExists, syncDirectory, writeFileAtomic } from '../../firmware/src/store/atomic-file.js';
import { PgwError } from '../../firmware/src/util/errors.js';
import type { Logger } from '../../firmware/src/util/logger.js';
import { createDeviceIdentity } from '../identity/device-identity.js';
import { DATA_DIR_KEEP, FILE_REFERENCE_KEYS, RESET_MARKER_FILE } from './erase-plan.js';

export interface FactoryResetPaths {
  /** The gateway's data directory (`pgw run --data`). */
  dataDir: string;
  /** The gateway file (`pgw run --config`), rewritten in its factory form. */
  configFile: string;
  /** The identity directory (hw/identity). */
  identityDir: string;
}

/** Who asked: the front panel, the console CLI (through the running gateway or offline). */
export type ResetSource = 'panel' | 'cli' | 'cli-offline';

/** What the gateway file keeps of `device` (erase-plan.ts DEVICE_FIELDS_KEPT). */
export interface KeptDevice {
  board: string;
  admin?: unknown;
  ota?: unknown;
}

export interface ResetMarker {
  schema: 1;
  requestedAt: string;
  source: ResetSource;
  keep: KeptDevice;
  /** Files named in the gateway file (cert, key, ca) inside the writable config area, erased too. */
  referencedFiles: string[];
}

export const RESET_STEPS = ['data', 'secrets', 'identity', 'new-identity', 'gateway-file', 'marker'] as const;
export type ResetStep = (typeof RESET_STEPS)[number];

export interface FactoryResetResult {
  deviceId: string;
  claimCode: string;
  /** What was removed, relative to the directory it was in (`data/practice.json`, `identity/device.key`, ...). */
  erased: string[];
}

export interface EraseHooks {
  /** Called after each entry is removed (tests stop here to play a power cut). */
  onRemoved?: (what: string) => void;
  /** Called after each step. */
  onStep?: (step: ResetStep) => void;
}

const GENERIC_BOARD = 'generic';

export function markerPath(dataDir: string): string {
  return join(dataDir, RESET_MARKER_FILE);
}

/** The pending reset's marker, or null when none is pending. A marker that cannot be parsed is still a pending reset. */
export async function readResetMarker(dataDir: string): Promise<ResetMarker | null> {
  const text = await readTextIfExists(markerPath(dataDir));
  if (text === null) return null;
  try {
    const m = JSON.parse(text) as Partial<ResetMarker>;
    if (m && typeof m === 'object' && m.keep && typeof m.keep.board === 'string') {
      return { schema: 1, requestedAt: String(m.requestedAt ?? ''), source: m.source ?? 'panel', keep: m.keep, referencedFiles: Array.isArray(m.referencedFiles) ? m.referencedFiles.filter((f): f is string => typeof f === 'string') : [] };
    }
  } catch {
    // fall through: a torn marker (it is written atomically, so only a damaged disk) still means "erase"
  }
  return { schema: 1, requestedAt: '', source: 'panel', keep: { board: GENERIC_BOARD }, referencedFiles: [] };
}

/**
 * Reads what the gateway file keeps and the files it names, and writes the
 * marker (atomically, fsynced). From here on the reset will complete, now or
 * at the next start.
 */
export async function beginFactoryReset(paths: FactoryResetPaths, options: { source: ResetSource; now: () => number }): Promise<ResetMarker> {
  const file = await readGatewayFileLoosely(paths.configFile);
  const device = isObject(file?.device) ? file.device : {};
  const keep: KeptDevice = { board: typeof device.board === 'string' ? device.board : GENERIC_BOARD };
  if (device.admin !== undefined) keep.admin = device.admin;
  if (device.ota !== undefined) keep.ota = device.ota;
  const marker: ResetMarker = {
    schema: 1,
    requestedAt: new Date(options.now()).toISOString(),
    source: options.source,
    keep,
    referencedFiles: file ? referencedFilesToErase(file, paths) : [],
  };
  try {
    await writeFileAtomic(markerPath(paths.dataDir), `${JSON.stringify(marker, null, 1)}\n`, { mode: 0o600 });
  } catch (e) {
    throw new PgwError('PGW_E_FACTORY_RESET', `cannot write the factory-reset marker in ${paths.dataDir}: ${(e as Error).message}`, { cause: e });
  }
  return marker;
}

/** Runs every erase step of a begun reset, in order, and removes the marker last. */
export async function completeFactoryReset(paths: FactoryResetPaths, marker: ResetMarker, hooks: EraseHooks = {}): Promise<FactoryResetResult> {
  const erased: string[] = [];
  const removed = (what: string) => {
    erased.push(what);
    hooks.onRemoved?.(what);
  };
  const keepNames = new Set(DATA_DIR_KEEP.map((k) => k.name));
  // The gateway file and the identity may live inside the data directory (`make run` keeps the
  // file there): they are left to their own steps, so a cut here never leaves the box without a file.
  const protectedPaths = [resolve(paths.configFile), resolve(paths.identityDir)];
  try {
    // 1. The data directory, by exclusion.
    const dataDir = resolve(paths.dataDir);
    for (const name of await entries(dataDir)) {
      if (keepNames.has(name)) continue;
      await eraseTree(join(dataDir, name), `data/${name}`, protectedPaths, removed);
    }
    await syncDirectory(dataDir);
    hooks.onStep?.('data');
    // 2. Certificates and keys the gateway file named, in the writable config area.
    for (const f of marker.referencedFiles) {
      if (await exists(f)) {
        await rm(f, { force: true });
        removed(f);
      }
    }
    hooks.onStep?.('secrets');
    // 3. The old identity, claimed flag included.
    for (const name of await entries(paths.identityDir)) {
      await rm(join(paths.identityDir, name), { recursive: true, force: true });
      removed(`identity/${name}`);
    }
    await syncDirectory(paths.identityDir);
    hooks.onStep?.('identity');
    // 4. A new one: the box shows a new claim code.
    const identity = await createDeviceIdentity(paths.identityDir);
    hooks.onStep?.('new-identity');
    // 5. The gateway file as first boot writes it, with what the marker kept.
    await writeFileAtomic(paths.configFile, `${JSON.stringify({ device: { id: identity.deviceId, ...marker.keep } }, null, 2)}\n`, { mode: 0o600 });
    hooks.onStep?.('gateway-file');
    // 6. Done: the marker goes last.
    await rm(markerPath(paths.dataDir), { force: true });
    await syncDirectory(paths.dataDir);
    hooks.onStep?.('marker');
    return { deviceId: identity.deviceId, claimCode: identity.claimCode, erased };
  } catch (e) {
    if (e instanceof PgwError) throw e;
    throw new PgwError('PGW_E_FACTORY_RESET', `factory reset did not complete: ${(e as Error).message}`, { cause: e, context: { erased: erased.length } });
  }
}

/**
 * At start, before anything is read: a reset that was cut short (power, a
 * crash) is finished. Null when none was pending.
 */
export async function finishPendingFactoryReset(paths: FactoryResetPaths, log: Logger): Promise<FactoryResetResult | null> {
  const marker = await readResetMarker(paths.dataDir);
  if (!marker) return null;
  log.warn({ requestedAt: marker.requestedAt, source: marker.source }, 'a factory reset was interrupted: finishing it before starting');
  const result = await completeFactoryReset(paths, marker);
  log.warn({ deviceId: result.deviceId, claimCode: result.claimCode, erased: result.erased.length }, 'factory reset finished: the box is factory-fresh');
  return result;
}

/** Both steps at once: for a gateway that is not running (the console CLI offline). */
export async function factoryReset(paths: FactoryResetPaths, options: { source: ResetSource; now: () => number; hooks?: EraseHooks }): Promise<FactoryResetResult> {
  const marker = await beginFactoryReset(paths, options);
  return completeFactoryReset(paths, marker, options.hooks);
}

// ---------------------------------------------------------------- helpers

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The gateway file as JSON, not validated (a reset must work on a file this version rejects); null when unreadable. */
async function readGatewayFileLoosely(path: string): Promise<Record<string, unknown> | null> {
  try {
    const j = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return isObject(j) ? j : null;
  } catch {
    return null;
  }
}

/** cert/key/ca files the document names that lie in the gateway file's directory, the data or the identity directory. */
export function referencedFilesToErase(doc: unknown, paths: FactoryResetPaths): string[] {
  const areas = [dirname(resolve(paths.configFile)), resolve(paths.dataDir), resolve(paths.identityDir)];
  const inside = (f: string) => areas.some((a) => {
    const r = relative(a, f);
    return r !== '' && !r.startsWith('..') && !isAbsolute(r);
  });
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        if ((FILE_REFERENCE_KEYS as readonly string[]).includes(k) && typeof x === 'string' && isAbsolute(x)) {
          const f = resolve(x);
          if (inside(f) && f !== resolve(paths.configFile)) found.add(f);
        } else walk(x);
      }
    }
  };
  walk(doc);
  return [...found].sort();
}

/** Removes `path` unless it is protected; a directory holding a protected path is emptied around it. */
async function eraseTree(path: string, label: string, protectedPaths: string[], removed: (what: string) => void): Promise<void> {
  if (protectedPaths.includes(path)) return;
  if (protectedPaths.some((p) => p.startsWith(`${path}/`))) {
    for (const name of await entries(path)) await eraseTree(join(path, name), `${label}/${name}`, protectedPaths, removed);
    return;
  }
  await rm(path, { recursive: true, force: true });
  removed(label);
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
