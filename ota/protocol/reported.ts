/**
 * `pgw/v1/{deviceId}/ota/reported` (retained, box → cloud): the update
 * state as the box knows it, published on every transition, on progress
 * (at most every couple of seconds), and again on every reconnect. It is
 * rebuilt from the persisted record after a reboot, so it never goes
 * stale or lies about a step that did not happen. docs/OTA.md documents
 * each field.
 */
import type { SlotName } from '../../hw/slots/types.js';
import type { OtaState } from '../agent/states.js';
import type { HealthCheckItem } from '../agent/ports.js';
import type { PreconditionResult } from '../agent/preconditions.js';
import type { InstallPolicy } from './desired.js';

export const REPORTED_SCHEMA = 1;

export type WaitingFor = 'window' | 'calls' | 'clock' | 'not-before' | 'reboot';

export interface OtaReported {
  schema: number;
  deviceId: string;
  state: OtaState;
  /** The target's id (the admin's nonce), or null before any target. */
  id: string | null;
  target: { version: string; policy: InstallPolicy; url: string } | null;
  running: { version: string; slot: SlotName | null };
  progress: { phase: 'download' | 'install'; bytes: number; total: number; percent: number } | null;
  reason: { code: string; message: string } | null;
  preconditions: PreconditionResult[] | null;
  waiting: { for: WaitingFor; until?: string; activeCalls?: number } | null;
  trial: { boots: number; healthy: boolean | null; checks: HealthCheckItem[]; soakRemainingMs: number | null } | null;
  /** A newer target that will be handled once the current one is finished. */
  queued: { id: string; version: string } | null;
  /** The last ota/desired that could not be used, and why. */
  rejectedTarget: { id: string | null; errors: { path: string; message: string }[] } | null;
  /** Whether the time in `at` (and window decisions) can be trusted; see docs/OTA.md "Clock trust". */
  clock: { trusted: boolean; source: 'clock' | 'server' | null };
  /** Increments with every state change (not with progress). */
  seq: number;
  at: string;
}
