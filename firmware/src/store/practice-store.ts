/**
 * The last applied practice config (CONTRACT.md: "The gateway keeps the
 * last one it applied and runs on it when the cloud is away"), and the one
 * before it, in `DATA/practice.json`:
 *
 *   { "schemaVersion": 1,
 *     "applied":  { "version": 7, "appliedAt": "2026-...Z", "practice": {...} } | null,
 *     "previous": { ... } | null }
 *
 * The practice is stored with its secrets: this file is the box's own copy
 * (mode 0600 in a 0700 directory), never published. On load it is
 * validated again with the current schema, so a practice this firmware
 * cannot run is reported rather than half-used.
 */
import { rename } from 'node:fs/promises';
import type { Clock } from '../util/clock.js';
import { SystemClock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { PgwError } from '../util/errors.js';
import type { Practice } from '../config/practice-schema.js';
import { validatePractice } from '../config/validate.js';
import { JsonDocument, fileStamp } from './json-document.js';
import type { DocumentSpec, StoreRecovery } from './json-document.js';
import type { Migration, StoredJson } from './migrations.js';

export interface AppliedPractice {
  version: number;
  /** ISO 8601, from the injected clock. */
  appliedAt: string;
  practice: Practice;
}

interface StoredApplied {
  version: number;
  appliedAt: string;
  practice: unknown;
}

export interface PracticeDocument {
  schemaVersion: number;
  applied: StoredApplied | null;
  previous: StoredApplied | null;
}

export const PRACTICE_STORE_FILE = 'practice.json';
export const PRACTICE_STORE_SCHEMA_VERSION = 1;

/** Migrations of practice.json, N → N+1. None yet: version 1 is the first. */
export const PRACTICE_STORE_MIGRATIONS: readonly Migration[] = [];

function isStoredApplied(v: unknown): v is StoredApplied {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.version === 'number' && typeof o.appliedAt === 'string' && typeof o.practice === 'object' && o.practice !== null;
}

export const PRACTICE_DOCUMENT_SPEC: DocumentSpec<PracticeDocument> = {
  file: PRACTICE_STORE_FILE,
  schemaVersion: PRACTICE_STORE_SCHEMA_VERSION,
  migrations: PRACTICE_STORE_MIGRATIONS,
  initial: () => ({ schemaVersion: PRACTICE_STORE_SCHEMA_VERSION, applied: null, previous: null }),
  check(doc: StoredJson): string | undefined {
    for (const key of ['applied', 'previous'] as const) {
      if (doc[key] !== null && !isStoredApplied(doc[key])) return `${key} is not { version, appliedAt, practice } or null`;
    }
    return undefined;
  },
};

export interface PracticeStoreOptions {
  dataDir: string;
  logger: Logger;
  clock?: Clock;
}

export class PracticeStore {
  private readonly options: PracticeStoreOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private doc: JsonDocument<PracticeDocument> | null = null;
  private opening: Promise<JsonDocument<PracticeDocument>> | null = null;
  private recoveries: StoreRecovery[] = [];

  constructor(options: PracticeStoreOptions) {
    this.options = options;
    this.clock = options.clock ?? new SystemClock();
    this.log = options.logger.child({ component: 'store' });
  }

  /**
   * The last applied practice, or null when there is none (first start, or
   * the file was unusable: see `recovery`). Throws PGW_E_STORE_SCHEMA when
   * the file is from a newer firmware, PGW_E_STORE when the data dir
   * cannot be read at all.
   */
  async load(): Promise<AppliedPractice | null> {
    const doc = await this.open();
    return this.decode(doc, 'applied');
  }

  /** The practice applied before the current one, for a rollback. Null when none. */
  async loadPrevious(): Promise<AppliedPractice | null> {
    const doc = await this.open();
    return this.decode(doc, 'previous');
  }

  /**
   * Persists `practice` as the last applied one (the current one becomes
   * `previous`). Resolves once it is durably on disk. Refuses (PGW_E_CONFIG_INVALID)
   * a practice that does not validate, so the next start can always run on what is stored.
   */
  async saveApplied(practice: Practice): Promise<AppliedPractice> {
    const r = validatePractice(practice);
    if (!r.ok) throw new PgwError('PGW_E_CONFIG_INVALID', 'refusing to store an invalid practice', { context: { errors: r.errors } });
    const doc = await this.open();
    const entry: StoredApplied = { version: r.value.version, appliedAt: new Date(this.clock.now()).toISOString(), practice: r.value };
    await doc.update((d) => {
      // Saving the same version again (a restart re-applying it) must not lose the real previous one.
      if (d.applied && d.applied.version !== entry.version) d.previous = d.applied;
      d.applied = entry;
    });
    this.log.info({ version: entry.version }, 'practice config stored as last applied');
    return { version: entry.version, appliedAt: entry.appliedAt, practice: r.value };
  }

  /** What was wrong with the stored file, when something was (null when all was well). */
  get recovery(): StoreRecovery | null {
    return this.recoveries[0] ?? null;
  }

  /** Every problem found since the store was opened. */
  get recoveryLog(): readonly StoreRecovery[] {
    return this.recoveries;
  }

  /** Waits for writes in flight (for SIGTERM: nothing in the store lost). */
  async close(): Promise<void> {
    if (this.doc) await this.doc.flush();
  }

  private async open(): Promise<JsonDocument<PracticeDocument>> {
    if (this.doc) return this.doc;
    this.opening ??= JsonDocument.open({ ...this.options, clock: this.clock, spec: PRACTICE_DOCUMENT_SPEC });
    try {
      this.doc = await this.opening;
    } finally {
      this.opening = null;
    }
    if (this.doc.recovery) this.recoveries.push(this.doc.recovery);
    return this.doc;
  }

  /**
   * A stored practice that no longer validates (a hand edit, or a schema
   * change without a store migration) is not run: the file is copied aside
   * for a human and the entry dropped, like any other unusable content.
   */
  private async decode(doc: JsonDocument<PracticeDocument>, key: 'applied' | 'previous'): Promise<AppliedPractice | null> {
    const entry = doc.data[key];
    if (!entry) return null;
    const r = validatePractice(entry.practice);
    if (r.ok) return { version: entry.version, appliedAt: entry.appliedAt, practice: r.value };
    const target = `${doc.path}.invalid-${fileStamp(this.clock)}`;
    let movedTo: string | null = target;
    try {
      await rename(doc.path, target);
    } catch {
      movedTo = null;
    }
    const recovery: StoreRecovery = {
      file: doc.path,
      reason: `stored ${key} practice (version ${entry.version}) does not validate: ${r.errors
        .slice(0, 5)
        .map((e) => `${e.path}: ${e.message}`)
        .join('; ')}`,
      movedTo,
    };
    this.recoveries.push(recovery);
    this.log.error({ ...recovery }, 'stored practice unusable: moved aside');
    await doc.update((d) => {
      d[key] = null;
    });
    return null;
  }
}
