/**
 * `pgw/v1/{deviceId}/ota/desired` (retained, cloud → box): the update
 * target. Validated where it arrives (ARCHITECTURE.md: every inbound
 * document is validated at the edge). docs/OTA.md documents each field.
 *
 * `id` is the admin's nonce for this issue of the target: the box acts on a
 * given id once. The retained message is delivered again on every
 * reconnect and must not restart anything; a version that failed is tried
 * again only when the admin publishes it again with a new id.
 */
import { z } from 'zod';
import { isSemVer } from '../semver.js';

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

const hhmm = () =>
  z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, { message: 'must be HH:MM (00:00 to 24:00), e.g. 18:30' });

const timeZoneName = () =>
  z.string().refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat('en-GB', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be an IANA time zone, e.g. Europe/London' },
  );

/** A daily time range; `to` at or before `from` runs past midnight into the next day. `days` are the days it starts on. */
export const timeRangeSchema = z.strictObject({
  days: z.array(z.enum(DAYS)).min(1).optional(),
  from: hhmm(),
  to: hhmm(),
});
export type TimeRange = z.infer<typeof timeRangeSchema>;

/**
 * When installs (the reboot, really) may happen, in the site's local time.
 * Inside the window when some `allow` range holds (or there is no `allow`)
 * and no `deny` range holds.
 */
export const windowSchema = z.strictObject({
  /** Default: the site's time zone (practice.site.timezone), else Europe/London. */
  timezone: timeZoneName().optional(),
  allow: z.array(timeRangeSchema).optional(),
  deny: z.array(timeRangeSchema).optional(),
});
export type MaintenanceWindow = z.infer<typeof windowSchema>;

/** DOMAIN.md: core hours are 08:00–18:30 on weekdays; never reboot inside them. */
export const DEFAULT_WINDOW: MaintenanceWindow = {
  deny: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:30' }],
};

export const POLICIES = ['window', 'now', 'defer-until'] as const;
export type InstallPolicy = (typeof POLICIES)[number];

export const otaDesiredSchema = z
  .strictObject({
    id: z.string().min(1).max(128),
    version: z.string().refine(isSemVer, { message: 'must be a semantic version, e.g. 1.4.2' }),
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), { message: 'must be an http:// or https:// URL' }),
    /** Size of the bundle file in bytes. */
    size: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** SHA-256 of the whole bundle file, lowercase hex. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex digits' }),
    /** Base64 Ed25519 signature of the bundle head, when the bundle itself is unsigned (or the same bytes as its own). */
    signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, { message: 'must be a base64 Ed25519 signature (88 characters)' }).optional(),
    policy: z.enum(POLICIES).default('window'),
    /** With `defer-until`: not before this time (ISO 8601 with offset). */
    notBefore: z.string().datetime({ offset: true }).optional(),
    window: windowSchema.optional(),
    /** Informational: when the admin issued it. */
    issuedAt: z.string().datetime({ offset: true }).optional(),
  })
  .superRefine((d, ctx) => {
    if (d.policy === 'defer-until' && d.notBefore === undefined)
      ctx.addIssue({ code: 'custom', path: ['notBefore'], message: 'is required with policy defer-until' });
  });

export type OtaDesired = z.infer<typeof otaDesiredSchema>;

export type DesiredParse = { ok: true; desired: OtaDesired } | { ok: false; errors: { path: string; message: string }[] };

export function parseOtaDesired(payload: Buffer | string): DesiredParse {
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (e) {
    return { ok: false, errors: [{ path: '', message: `not JSON: ${(e as Error).message}` }] };
  }
  const r = otaDesiredSchema.safeParse(json);
  if (r.success) return { ok: true, desired: r.data };
  return { ok: false, errors: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
}
