/**
 * The bundle manifest: what the image is, which boxes may take it, and from
 * which versions. It is signed (sign.ts), so everything a box decides on
 * before installing comes from here or is checked against it.
 *
 * `createdAt` is informational only: no check depends on the wall clock, so
 * a box whose RTC battery is flat (and boots in 1970) still accepts a good
 * bundle. Replay of an old, validly signed bundle is stopped by version
 * order instead (`version` must be newer than the running one unless the
 * manifest itself says `allowDowngrade`), which needs no clock.
 */
import { z } from 'zod';
import { PgwError } from '../../firmware/src/util/errors.js';
import { isSemVer } from '../semver.js';

export const MANIFEST_SCHEMA = 1;

const semver = () => z.string().refine(isSemVer, { message: 'must be a semantic version, e.g. 1.4.2' });
const sha256Hex = () => z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex digits' });

export const PAYLOAD_FORMATS = ['raw', 'tar'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

export const manifestSchema = z.strictObject({
  schema: z.literal(MANIFEST_SCHEMA),
  version: semver(),
  /** Board profile names (device.board) that may install this image. */
  compatible: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'must be a board profile name' }))
    .min(1)
    .refine((a) => new Set(a).size === a.length, { message: 'must not repeat a board' }),
  /** The oldest running version this bundle may update from (e.g. after a data migration boundary). */
  minFromVersion: semver().optional(),
  allowDowngrade: z.boolean().default(false),
  createdAt: z.string().datetime({ offset: true }),
  image: z.strictObject({
    /** `raw`: a file system image written to a block device or image file; `tar`: a root tree unpacked into a directory slot. */
    format: z.enum(PAYLOAD_FORMATS),
    size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    sha256: sha256Hex(),
  }),
  notes: z.string().max(4096).optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** Parses manifest bytes; throws PGW_E_OTA_BUNDLE with every problem. */
export function parseManifest(bytes: Buffer | string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (e) {
    throw new PgwError('PGW_E_OTA_BUNDLE', `the manifest is not JSON: ${(e as Error).message}`);
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new PgwError('PGW_E_OTA_BUNDLE', `invalid manifest: ${problems.join('; ')}`, { context: { problems } });
  }
  return r.data;
}

/** The bytes stored in the bundle: compact JSON, keys in schema order. */
export function serializeManifest(m: Manifest): Buffer {
  const ordered: Manifest = {
    schema: m.schema,
    version: m.version,
    compatible: [...m.compatible],
    ...(m.minFromVersion !== undefined ? { minFromVersion: m.minFromVersion } : {}),
    allowDowngrade: m.allowDowngrade,
    createdAt: m.createdAt,
    image: { format: m.image.format, size: m.image.size, sha256: m.image.sha256 },
    ...(m.notes !== undefined ? { notes: m.notes } : {}),
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}
