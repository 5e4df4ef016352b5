/**
 * What the box publishes and receives over MQTT, as TypeScript types
 * (CONTRACT.md "MQTT"; docs/MQTT.md shows each with an example). Every
 * payload is UTF-8 JSON. Times are ISO 8601 strings in UTC (`at`).
 *
 * Nothing here may carry a secret (issue 3): no practice document is ever
 * published back, only versions, JSON paths and messages.
 */
import type { ConfigProblem } from '../config/problems.js';
import type { GatewayMode, GatewayStatus as AdminGatewayStatus } from '../admin/status-provider.js';

// ---------------------------------------------------------------- status

// The status figures are the admin API's (CONTRACT.md "Local HTTP API"): one definition, in
// admin/status-provider.ts, for both the HTTP endpoint and the `status` topic.
export type { GatewayMode, UplinkState, UplinkStatus } from '../admin/status-provider.js';

export type FirmwareStatus = AdminGatewayStatus['firmware'];

/** What the `status` topic carries of `GET /api/v1/status` (its required figures). */
export type GatewayStatus = Pick<AdminGatewayStatus, 'mode' | 'configVersion' | 'uplinks' | 'registrations' | 'activeCalls' | 'firmware'>;

/** `status` (retained) while the box is connected. */
export interface OnlineStatusPayload extends GatewayStatus {
  online: true;
  deviceId: string;
  at: string;
}

/**
 * `status` (retained) once the box is gone: the Will is exactly
 * `{"online":false}`; a clean stop adds `reason` and `at`.
 */
export interface OfflineStatusPayload {
  online: false;
  reason?: 'stopped';
  at?: string;
}

export type StatusPayload = OnlineStatusPayload | OfflineStatusPayload;

// ---------------------------------------------------------------- config

export type ReportedStatus = 'applied' | 'rejected';

/**
 * `config/reported` (retained). `version` is the version this report is
 * about: the one applied, or the one rejected (null when the document had no
 * readable version). When a desired version is ignored because it is not
 * newer, the report keeps telling the applied version (CONTRACT.md) and
 * `ignored` says which one was ignored and why.
 */
export interface ReportedConfig {
  version: number | null;
  status: ReportedStatus;
  errors: ConfigProblem[];
  at: string;
  /** The version the box runs now (null: none yet). */
  appliedVersion: number | null;
  ignored?: { version: number; reason: string };
}

// ---------------------------------------------------------------- diff summary

/** Counts of what a config change touched, for events and logs (no names of secrets, no values). */
export interface ChangeSummary {
  extensions: { added: number; removed: number; changed: number };
  huntGroups: { added: number; removed: number; changed: number };
  uplinks: { added: number; removed: number; changed: number; reordered: boolean };
  routes: { added: number; removed: number; changed: number };
  settings: string[];
}

// ---------------------------------------------------------------- calls and events

export type CallDirection = 'inbound' | 'outbound' | 'internal';

/**
 * answered; missed: reached a queue or a person and was not answered;
 * abandoned: the caller hung up before (DOMAIN.md, NHS England call data);
 * busy; failed.
 */
export type CallDisposition = 'answered' | 'missed' | 'abandoned' | 'busy' | 'failed';

export interface CallParty {
  number: string;
  name?: string;
}

export type CallPhase = 'ringing' | 'answered' | 'ended';

export type AlarmSeverity = 'warning' | 'critical';

export type ConfigEventAction = 'applied' | 'rejected' | 'ignored' | 'rolled-back' | 'rollback-failed';

/**
 * What the gateway tells the cloud as it happens, on `events`. Call events
 * let the cloud pop the patient record on `ringing` (caller ID in `from`).
 */
export type GatewayEvent =
  | { type: 'mode'; mode: GatewayMode; previous: GatewayMode; reason?: string; at?: string }
  | {
      type: 'alarm';
      /** Stable name, e.g. `outbox-disk-low`. */
      alarm: string;
      state: 'raised' | 'cleared';
      severity: AlarmSeverity;
      message: string;
      details?: Record<string, unknown>;
      at?: string;
    }
  | {
      type: 'call';
      phase: CallPhase;
      /** The gateway's id of the call; the same in every phase and in its call record's `callId`. */
      callId: string;
      direction: CallDirection;
      from: CallParty;
      to: CallParty;
      answeredBy?: CallParty;
      uplink?: string;
      huntGroup?: string;
      disposition?: CallDisposition;
      at?: string;
    }
  | {
      type: 'config';
      action: ConfigEventAction;
      /** The version the event is about. */
      version: number | null;
      appliedVersion: number | null;
      reason?: string;
      changes?: ChangeSummary;
      at?: string;
    };

export type GatewayEventType = GatewayEvent['type'];

/** An event as published: `at` always set, plus the device id. */
export type EventPayload = GatewayEvent & { at: string; deviceId: string };

/**
 * One call record (issue 3), on `cdr`, sent from the persistent outbox.
 * `id` is unique per record, so the cloud can drop the rare duplicate a
 * reconnect may cause (MQTT QoS 1 is at least once).
 */
export interface CallRecord {
  id: string;
  callId?: string;
  direction: CallDirection;
  from: CallParty;
  to: CallParty;
  answeredBy?: CallParty;
  /** When the call reached the gateway (or was dialled, outbound). */
  arrivedAt: string;
  answeredAt?: string;
  endedAt: string;
  /** Uplink used: `cloud` or a trunk name; absent for internal calls. */
  uplink?: string;
  huntGroup?: string;
  queue?: string;
  /** Seconds from arrival to answer, or to hang-up when not answered. */
  waitSeconds?: number;
  /** Seconds from answer to end. */
  talkSeconds?: number;
  disposition: CallDisposition;
}

/** A call record as the gateway hands it over: the outbox gives it an id when it has none. */
export type CallRecordInput = Omit<CallRecord, 'id'> & { id?: string };

// ---------------------------------------------------------------- telemetry

export interface TelemetrySample {
  cpu: {
    /** Percent over all cores since the previous sample. */
    loadPercent: number | null;
    load1: number | null;
    temperatureC: number | null;
  };
  memory: { totalBytes: number; usedBytes: number; availableBytes: number };
  disks: Array<{ mount: string; sizeBytes: number; usedBytes: number; availableBytes: number; usePercent: number | null }>;
  interfaces: Array<{ name: string; state: string; speedMbps: number | null; role?: string }>;
  uptimeSeconds: number;
}

/** `telemetry` (not retained). */
export type TelemetryPayload = TelemetrySample & {
  at: string;
  deviceId: string;
  outbox: { pending: number };
};

// ---------------------------------------------------------------- commands

export type CommandErrorCode = 'unknown-command' | 'not-available' | 'bad-request' | 'failed';

/** The reply to `cmd/{name}`, published to the request's Response Topic with its Correlation Data. */
export type CommandReply =
  | { ok: true; command: string; result: unknown; at: string }
  | { ok: false; command: string; error: { code: CommandErrorCode; message: string }; at: string };
