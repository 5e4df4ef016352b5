/**
 * How the sync layer talks to the rest of the gateway. The sync layer
 * never imports the telephony core (pbx, sip, media, uplinks); the
 * composition root (gateway.ts) implements these small interfaces and
 * hands them in (ARCHITECTURE.md: dependencies point down, callbacks up
 * are delegate interfaces).
 */
import type { ConfigProblem } from '../config/problems.js';
import type { Practice } from '../config/practice-schema.js';
import type { PracticeDiff } from './practice-diff.js';
import type { GatewayStatus, TelemetrySample } from './payloads.js';

/** A practice the gateway runs (or ran), with its version. */
export interface AppliedPractice {
  version: number;
  practice: Practice;
}

/**
 * The steps an applier goes through, in this order, so that a hunt group
 * never names an extension that does not exist yet and a route never points
 * at a group or uplink that does not exist yet.
 */
export const APPLY_STEPS = ['extensions', 'huntGroups', 'uplinks', 'routes'] as const;
export type ApplyStep = (typeof APPLY_STEPS)[number];

export interface ApplyOptions {
  version: number;
  /** What changed from `previous`; empty when only the version moved. */
  diff: PracticeDiff;
  /** What runs now (undefined on first apply). */
  previous: AppliedPractice | undefined;
  /** `rollback`: putting `previous` back after a failed apply of a newer version. */
  reason: 'desired' | 'rollback' | 'restore';
}

export type ApplyResult = { ok: true } | { ok: false; step?: ApplyStep; errors: ConfigProblem[] };

/**
 * Applies a validated practice to the running gateway as ordered steps
 * (APPLY_STEPS), touching only what `diff` names so that calls the change
 * does not touch are not dropped. Implemented by the composition root over
 * the PBX, registrar and uplinks.
 *
 * On failure it returns `{ ok: false }` (or throws) and leaves whatever
 * steps it did; the reconciler then applies the previous practice with
 * reason `rollback`.
 */
export interface PracticeApplier {
  /** The practice running now, or undefined before the first apply. */
  current(): AppliedPractice | undefined;
  apply(practice: Practice, options: ApplyOptions): Promise<ApplyResult>;
}

/**
 * The last known good practice, kept across restarts (the store's
 * PracticeStore). `save` must be durable when it resolves.
 */
export interface LastKnownGoodStore {
  load(): Promise<AppliedPractice | undefined>;
  save(applied: AppliedPractice): Promise<void>;
}

/** Where `status` comes from: the same figures as the admin API's status. */
export interface StatusSource {
  status(): GatewayStatus | Promise<GatewayStatus>;
}

/** Health figures for `telemetry`; telemetry.ts has the systeminformation one. */
export interface TelemetrySource {
  sample(): Promise<TelemetrySample>;
}

/**
 * The uplinks' failover test, for `cmd/failover-test`. Absent, or
 * `available()` false (no uplinks yet), and the command answers
 * `not-available`.
 */
export interface FailoverTester {
  available(): boolean;
  run(params: unknown): Promise<unknown>;
}

/** Extra figures for `cmd/get-diagnostics` (redacted before they are sent). */
export interface DiagnosticsSource {
  diagnostics(): Promise<Record<string, unknown>>;
}
