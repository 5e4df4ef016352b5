/**
 * Loading and saving the agent's record (record.ts). A missing file is a
 * fresh box. A file that is not JSON or not a record (which atomic writes
 * should make impossible, but an SD card can still corrupt) is moved aside
 * and reported, never silently trusted. A file from a newer schema that
 * says it is not readable by this one is an error (PGW_E_OTA_STATE).
 */
import { rename } from 'node:fs/promises';
import { readTextIfExists, removeStaleTemps, writeFileAtomic } from '../../firmware/src/store/atomic-file.js';
import { PgwError } from '../../firmware/src/util/errors.js';
import { RECORD_SCHEMA, freshRecord } from './record.js';
import type { OtaRecord } from './record.js';
import { isOtaState } from './states.js';

export type LoadResult = { kind: 'fresh'; record: OtaRecord } | { kind: 'loaded'; record: OtaRecord } | { kind: 'corrupt'; record: OtaRecord; movedTo: string; error: string };

export class StateFile {
  constructor(readonly path: string) {}

  async load(now: string): Promise<LoadResult> {
    await removeStaleTemps(this.path);
    const text = await readTextIfExists(this.path);
    if (text === null) return { kind: 'fresh', record: freshRecord(now) };
    let rec: OtaRecord;
    try {
      rec = JSON.parse(text) as OtaRecord;
      if (typeof rec !== 'object' || rec === null || !isOtaState(rec.state) || typeof rec.schema !== 'number') throw new Error('not an OTA record');
    } catch (e) {
      const movedTo = `${this.path}.corrupt-${now.replace(/[^0-9A-Za-z]/g, "")}`;
      await rename(this.path, movedTo);
      return { kind: 'corrupt', record: freshRecord(now), movedTo, error: (e as Error).message };
    }
    const readableBy = typeof rec.readableBy === 'number' ? rec.readableBy : rec.schema;
    if (readableBy > RECORD_SCHEMA)
      throw new PgwError('PGW_E_OTA_STATE', `${this.path} needs OTA state schema ${readableBy}; this firmware reads ${RECORD_SCHEMA}`);
    // Fill fields an older writer did not know, so the rest of the agent sees a whole record.
    return { kind: 'loaded', record: { ...freshRecord(now), ...rec, schema: RECORD_SCHEMA, readableBy: 1 } };
  }

  async save(rec: OtaRecord): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(rec, null, 1)}\n`, { mode: 0o600 });
  }
}
