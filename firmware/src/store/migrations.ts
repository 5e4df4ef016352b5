/**
 * Store migrations: each takes a document of schema version N to N+1.
 * They run in order on open when a file is older than the firmware
 * (e.g. after an OTA update), on a copy, so a migration that throws
 * leaves the original untouched.
 */
import { PgwError } from '../util/errors.js';

export type StoredJson = Record<string, unknown>;

export interface Migration {
  /** The version this migration reads; it writes from + 1. */
  from: number;
  /** What changes, for the log. */
  description: string;
  up(doc: StoredJson): StoredJson;
}

/**
 * Checks that `migrations` take every version from the first one they know
 * up to `current` exactly once. A gap is a programming error, caught when a
 * document spec is built rather than on a box in the field.
 */
export function checkMigrationChain(migrations: readonly Migration[], current: number): void {
  const froms = migrations.map((m) => m.from).sort((a, b) => a - b);
  for (let i = 0; i < froms.length; i++) {
    const expected = current - froms.length + i;
    if (froms[i] !== expected)
      throw new PgwError('PGW_E_STORE', `migrations must cover versions ${current - froms.length}..${current - 1} once each`, {
        context: { froms, current },
      });
  }
}

/** The oldest schema version the migrations can read. */
export function oldestReadable(migrations: readonly Migration[], current: number): number {
  return current - migrations.length;
}

/**
 * Runs the migrations from doc.schemaVersion up to `current`. Returns the
 * migrated document and the versions it passed through. Throws PGW_E_STORE
 * when a step is missing or a migration fails.
 */
export function runMigrations(
  doc: StoredJson & { schemaVersion: number },
  migrations: readonly Migration[],
  current: number,
): { doc: StoredJson & { schemaVersion: number }; steps: Migration[] } {
  let out: StoredJson = structuredClone(doc);
  const steps: Migration[] = [];
  for (let v = doc.schemaVersion; v < current; v++) {
    const m = migrations.find((x) => x.from === v);
    if (!m) throw new PgwError('PGW_E_STORE', `no migration from schema version ${v}`, { context: { from: v, current } });
    try {
      out = m.up(out);
    } catch (e) {
      throw new PgwError('PGW_E_STORE', `migration from schema version ${v} failed: ${(e as Error).message}`, {
        cause: e,
        context: { from: v },
      });
    }
    out.schemaVersion = v + 1;
    steps.push(m);
  }
  return { doc: out as StoredJson & { schemaVersion: number }, steps };
}
