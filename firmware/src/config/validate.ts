/**
 * Validation at the edge (ARCHITECTURE.md, config/): every inbound
 * document, whether file, MQTT or HTTP, goes through one of these before
 * anything acts on it. Structure and defaults come from the zod schemas,
 * then the cross-field checks run, so the answer is either a value with
 * every default filled in or a list of `{ path, message }` problems.
 */
import type { z } from 'zod';
import { GatewayFileSchema } from './gateway-file-schema.js';
import type { GatewayFile } from './gateway-file-schema.js';
import { PracticeSchema } from './practice-schema.js';
import type { Practice } from './practice-schema.js';
import { checkPractice } from './practice-checks.js';
import { checkDevice } from './device-checks.js';
import { configErrorMap, problemsFromZod } from './problems.js';
import type { ConfigProblem } from './problems.js';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: ConfigProblem[] };

function parse<S extends z.ZodType>(schema: S, json: unknown, prefix: string): ValidationResult<z.output<S>> {
  const r = schema.safeParse(json, { error: configErrorMap });
  if (!r.success) return { ok: false, errors: problemsFromZod(r.error.issues, prefix) };
  return { ok: true, value: r.data };
}

/** A gateway file: `device` and an optional `practice`. Paths start at `device` / `practice`. */
export function validateGatewayFile(json: unknown): ValidationResult<GatewayFile> {
  const r = parse(GatewayFileSchema, json, '');
  if (!r.ok) return r;
  const errors = [...checkDevice(r.value.device, 'device')];
  if (r.value.practice) errors.push(...checkPractice(r.value.practice, 'practice'));
  return errors.length > 0 ? { ok: false, errors } : r;
}

/**
 * A practice document on its own (a file, or the `practice` of an MQTT
 * `config/desired`). Paths start with `pathPrefix`, `practice` by default,
 * so they read the same as in a gateway file.
 */
export function validatePractice(json: unknown, options: { pathPrefix?: string } = {}): ValidationResult<Practice> {
  const prefix = options.pathPrefix ?? 'practice';
  const r = parse(PracticeSchema, json, prefix);
  if (!r.ok) return r;
  const errors = checkPractice(r.value, prefix);
  return errors.length > 0 ? { ok: false, errors } : r;
}

export interface DesiredConfig {
  version: number;
  practice: Practice;
}

/**
 * The payload of `config/desired` (CONTRACT.md): `{ version: N, practice }`,
 * where `practice.version`, when present, equals N. When it is absent the
 * practice takes N.
 */
export function validateDesired(json: unknown): ValidationResult<DesiredConfig> {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { ok: false, errors: [{ path: '(root)', message: 'must be an object { version, practice }' }] };
  const o = json as Record<string, unknown>;
  const errors: ConfigProblem[] = [];
  const version = o.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    errors.push({ path: 'version', message: version === undefined ? 'required' : 'must be a positive integer' });
  for (const key of Object.keys(o)) {
    if (key !== 'version' && key !== 'practice') errors.push({ path: key, message: 'unknown field' });
  }
  const practice = o.practice;
  if (typeof practice !== 'object' || practice === null || Array.isArray(practice)) {
    errors.push({ path: 'practice', message: practice === undefined ? 'required' : 'must be an object' });
    return { ok: false, errors };
  }
  const p = practice as Record<string, unknown>;
  if (p.version !== undefined && typeof version === 'number' && p.version !== version)
    errors.push({ path: 'practice.version', message: `must equal version (${version})` });
  const filled = p.version === undefined && typeof version === 'number' ? { ...p, version } : p;
  const r = validatePractice(filled);
  if (!r.ok) errors.push(...r.errors);
  if (errors.length > 0 || !r.ok) return { ok: false, errors };
  return { ok: true, value: { version: version as number, practice: r.value } };
}

export type ConfigDocumentKind = 'gateway-file' | 'practice' | 'desired';

/**
 * Which kind of document a JSON value looks like, for `pgw check-config`:
 * a gateway file has `device` (or a `practice` but no `version`), an MQTT
 * desired payload has `version` and `practice`, anything else is a practice.
 */
export function detectDocumentKind(json: unknown): ConfigDocumentKind {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'practice';
  const o = json as Record<string, unknown>;
  if ('device' in o) return 'gateway-file';
  if ('practice' in o) return 'version' in o && !('extensions' in o) ? 'desired' : 'gateway-file';
  return 'practice';
}

export type AnyConfigResult =
  | { kind: 'gateway-file'; result: ValidationResult<GatewayFile> }
  | { kind: 'practice'; result: ValidationResult<Practice> }
  | { kind: 'desired'; result: ValidationResult<DesiredConfig> };

/** Validates whichever kind of config document `json` is. */
export function validateAnyConfig(json: unknown): AnyConfigResult {
  const kind = detectDocumentKind(json);
  switch (kind) {
    case 'gateway-file':
      return { kind, result: validateGatewayFile(json) };
    case 'practice':
      return { kind, result: validatePractice(json) };
    case 'desired':
      return { kind, result: validateDesired(json) };
    default: {
      const never: never = kind;
      throw new Error(`unknown document kind ${String(never)}`);
    }
  }
}
