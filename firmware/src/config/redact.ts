/**
 * Secrets never appear in anything the box publishes or logs (issue 3):
 * SIP passwords of extensions, their cloud accounts, trunk passwords,
 * voicemail PINs, the MQTT password. Redaction goes by field name so a
 * secret added later under one of these names is covered without a change
 * here; secret fields must use one of these names.
 */
import type { Practice, PracticeInput } from './practice-schema.js';
import type { Device, DeviceInput } from './device-schema.js';
import type { GatewayFile, GatewayFileInput } from './gateway-file-schema.js';

export const REDACTED = '***';

/** Field names that hold secrets, wherever they appear. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['password', 'pin']);

/** A deep copy of any JSON value with every secret field replaced by "***". */
export function redactSecrets<T>(value: T): T {
  return walk(value) as T;
}

function walk(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(walk);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_FIELDS.has(k) && v !== undefined && v !== null ? REDACTED : walk(v);
    }
    return out;
  }
  return value;
}

export function redactPractice<T extends Practice | PracticeInput>(practice: T): T {
  return redactSecrets(practice);
}

export function redactDevice<T extends Device | DeviceInput>(device: T): T {
  return redactSecrets(device);
}

export function redactGatewayFile<T extends GatewayFile | GatewayFileInput>(file: T): T {
  return redactSecrets(file);
}
