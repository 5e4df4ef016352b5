/**
 * The agent's persisted state: one JSON document, rewritten atomically
 * (temp file, fsync, rename, fsync of the directory) on every transition
 * and download checkpoint. It lives on the data partition, shared by both
 * slots, so it survives the slot switch and tells the truth after a reboot.
 *
 * Versioning: `schema` is the writer's schema; `readableBy` is the oldest
 * reader schema that can still use it (SQLite's read/write version idea).
 * New firmware on trial may add fields and must keep `readableBy` at 1 so
 * the old firmware it rolls back to can still finish the rollback.
 */
import type { SlotName } from '../../hw/slots/types.js';
import type { Manifest } from '../bundle/manifest.js';
import type { OtaDesired } from '../protocol/desired.js';
import type { PreconditionResult } from './preconditions.js';
import type { OtaState } from './states.js';

export const RECORD_SCHEMA = 1;

export interface OtaReason {
  /** Stable, machine-readable (docs/OTA.md lists them). */
  code: string;
  message: string;
}

export interface OtaRecord {
  schema: number;
  readableBy: number;
  /** Increments on every transition. */
  seq: number;
  state: OtaState;
  /** The target being worked on (or last worked on). */
  desired: OtaDesired | null;
  /** Why the machine is in `refused`, `failed`, `rolled-back`, or `rolling-back`. */
  reason: OtaReason | null;
  /** The verified head, base64 (header and manifest bytes as fetched). */
  head: { header: string; manifest: string } | null;
  manifest: Manifest | null;
  preconditions: PreconditionResult[] | null;
  download: { file: string; durableBytes: number; sha256: string | null; redownloads: number } | null;
  /** The inactive slot holds this image (written, fsynced, read back). */
  installed: { slot: SlotName; sha256: string } | null;
  /**
   * Set when the install finished: where from and to, the boot it was in,
   * and whether the trial boot was armed (persisted before the reboot call,
   * so a power cut before arming is not mistaken for a failed trial boot).
   */
  reboot: { fromSlot: SlotName; toSlot: SlotName; bootId: string; fromVersion: string; armed?: boolean } | null;
  /** Process starts (boots or restarts) on trial: the loop guard. */
  trial: { boots: number } | null;
  /** Process starts in the current state without a transition: the crash-loop guard. */
  resumes: number;
  /** A target that arrived while the machine could not be interrupted. */
  pending: OtaDesired | null;
  /** Recently handled target ids (a retained target is delivered again on every reconnect). */
  handledIds: string[];
  /** Wall time of the last change (informational; the clock may be wrong). */
  updatedAt: string;
}

export function freshRecord(at: string): OtaRecord {
  return {
    schema: RECORD_SCHEMA,
    readableBy: 1,
    seq: 0,
    state: 'idle',
    desired: null,
    reason: null,
    head: null,
    manifest: null,
    preconditions: null,
    download: null,
    installed: null,
    reboot: null,
    trial: null,
    resumes: 0,
    pending: null,
    handledIds: [],
    updatedAt: at,
  };
}
