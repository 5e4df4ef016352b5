/**
 * A lowdb JSON document under the data dir, with a schema version
 * (ARCHITECTURE.md, store/). Opening it:
 *
 *   missing file            → the spec's initial document (written on the first change)
 *   older schemaVersion     → a copy kept as FILE.vN.bak, then migrations N → current, written back
 *   current schemaVersion   → used as is, once the spec's check accepts it
 *   newer schemaVersion     → PgwError PGW_E_STORE_SCHEMA: firmware must not rewrite what it does
 *                             not understand (e.g. after an OTA rollback to an older slot)
 *   unreadable as a document (not JSON, no schemaVersion, a migration fails, the check refuses)
 *                           → moved aside to FILE.corrupt-STAMP (kept for a human), reported
 *                             in `recovery` and the log, and the initial document used: a bad
 *                             file never stops the gateway
 *
 * Writes go through AtomicJsonFile (temp + fsync + rename + fsync dir).
 */
import { copyFile, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { PgwError, isPgwError } from '../util/errors.js';
import type { Clock } from '../util/clock.js';
import { SystemClock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { AtomicJsonFile, readTextIfExists, removeStaleTemps } from './atomic-file.js';
import { checkMigrationChain, oldestReadable, runMigrations } from './migrations.js';
import type { Migration, StoredJson } from './migrations.js';

export interface Versioned {
  schemaVersion: number;
}

export interface DocumentSpec<T extends Versioned> {
  /** File name under the data dir, e.g. `practice.json`. */
  file: string;
  /** The schema version this firmware writes. */
  schemaVersion: number;
  /** From the oldest readable version up to schemaVersion - 1, one each. */
  migrations: readonly Migration[];
  /** A fresh document at schemaVersion. */
  initial(): T;
  /** Checks a document at schemaVersion: undefined when good, else why not. */
  check(doc: StoredJson): string | undefined;
}

/** What happened to a file that could not be used. */
export interface StoreRecovery {
  file: string;
  reason: string;
  /** Where the bad file was moved; null when even the move failed. */
  movedTo: string | null;
}

export interface OpenDocumentOptions<T extends Versioned> {
  dataDir: string;
  spec: DocumentSpec<T>;
  logger: Logger;
  clock?: Clock;
}

/** A name-safe timestamp for files moved aside: 2026-11-22T04-19-08.123Z. */
export function fileStamp(clock: Clock): string {
  return new Date(clock.now()).toISOString().replace(/:/g, '-');
}

export class JsonDocument<T extends Versioned> {
  readonly path: string;
  /** Set when the file on disk could not be used and was moved aside. */
  readonly recovery: StoreRecovery | null;
  /** The schema version the file had, when it was migrated on open. */
  readonly migratedFrom: number | null;
  private readonly db: Low<T>;
  private readonly adapter: AtomicJsonFile<T>;

  private constructor(adapter: AtomicJsonFile<T>, data: T, recovery: StoreRecovery | null, migratedFrom: number | null) {
    this.adapter = adapter;
    this.path = adapter.path;
    this.db = new Low<T>(adapter, data);
    this.recovery = recovery;
    this.migratedFrom = migratedFrom;
  }

  /** The document. Change it only inside update(). */
  get data(): T {
    return this.db.data;
  }

  /** Applies fn to the document and writes it atomically; resolves once it is on disk. */
  async update(fn: (data: T) => void): Promise<void> {
    try {
      await this.db.update(fn);
    } catch (e) {
      if (isPgwError(e)) throw e;
      throw new PgwError('PGW_E_STORE', `cannot write ${this.path}: ${(e as Error).message}`, { cause: e, context: { file: this.path } });
    }
  }

  /** Resolves when every write started so far is on disk (for a clean stop). */
  flush(): Promise<void> {
    return this.adapter.flush();
  }

  static async open<T extends Versioned>(options: OpenDocumentOptions<T>): Promise<JsonDocument<T>> {
    const { dataDir, spec, logger } = options;
    const clock = options.clock ?? new SystemClock();
    const log = logger.child({ component: 'store' });
    checkMigrationChain(spec.migrations, spec.schemaVersion);
    const path = join(dataDir, spec.file);
    const adapter = new AtomicJsonFile<T>(path);
    try {
      // The store holds SIP passwords: only the gateway's user may read it.
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      const stale = await removeStaleTemps(path);
      if (stale.length > 0) log.warn({ file: path, stale }, 'removed temporary files left by an interrupted write');
    } catch (e) {
      throw new PgwError('PGW_E_STORE', `cannot use data directory ${dataDir}: ${(e as Error).message}`, { cause: e, context: { dataDir } });
    }

    let text: string | null;
    try {
      text = await readTextIfExists(path);
    } catch (e) {
      throw new PgwError('PGW_E_STORE', `cannot read ${path}: ${(e as Error).message}`, { cause: e, context: { file: path } });
    }
    if (text === null) return new JsonDocument(adapter, spec.initial(), null, null);

    const moveAside = async (reason: string): Promise<JsonDocument<T>> => {
      const target = `${path}.corrupt-${fileStamp(clock)}`;
      let movedTo: string | null = target;
      try {
        await rename(path, target);
      } catch (e) {
        movedTo = null;
        log.error({ file: path, err: (e as Error).message }, 'could not move the unusable store file aside');
      }
      const recovery: StoreRecovery = { file: path, reason, movedTo };
      log.error({ ...recovery }, 'store file unusable: moved aside, starting from an empty document');
      return new JsonDocument(adapter, spec.initial(), recovery, null);
    };

    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return moveAside(`not JSON: ${(e as Error).message.replace(/, ".*" is not valid JSON$/s, '')}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return moveAside('not a JSON object');
    const found = (parsed as StoredJson).schemaVersion;
    if (typeof found !== 'number' || !Number.isInteger(found) || found < 0) return moveAside('no valid schemaVersion');
    if (found > spec.schemaVersion) {
      throw new PgwError(
        'PGW_E_STORE_SCHEMA',
        `${path} has schema version ${found}; this firmware knows up to ${spec.schemaVersion}`,
        { context: { file: path, found, supported: spec.schemaVersion } },
      );
    }
    if (found < oldestReadable(spec.migrations, spec.schemaVersion)) return moveAside(`schema version ${found} is too old to migrate`);

    let doc = parsed as StoredJson & { schemaVersion: number };
    let migratedFrom: number | null = null;
    if (found < spec.schemaVersion) {
      try {
        doc = runMigrations(doc, spec.migrations, spec.schemaVersion).doc;
      } catch (e) {
        return moveAside((e as Error).message);
      }
      migratedFrom = found;
    }
    const problem = spec.check(doc);
    if (problem !== undefined) return moveAside(problem);

    const opened = new JsonDocument(adapter, doc as unknown as T, null, migratedFrom);
    if (migratedFrom !== null) {
      // Keep what the older firmware wrote: if an OTA update is rolled back,
      // the older slot finds its own version next to ours.
      const backup = `${path}.v${migratedFrom}.bak`;
      try {
        await copyFile(path, backup);
        await opened.update(() => undefined);
      } catch (e) {
        throw new PgwError('PGW_E_STORE', `cannot write the migrated ${path}: ${(e as Error).message}`, { cause: e, context: { file: path } });
      }
      log.info({ file: path, from: migratedFrom, to: spec.schemaVersion, backup }, 'store file migrated');
    }
    return opened;
  }
}
