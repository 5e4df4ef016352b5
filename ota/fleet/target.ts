/**
 * Making an ota/desired for a bundle file: size and SHA-256 of the file,
 * version from its manifest, and a fresh id (the nonce that lets a box
 * take the same version again after a failure, only when an admin says so).
 * The bundle is checked locally first, so a broken or unsigned bundle is
 * never sent to a fleet.
 */
import { randomBytes } from 'node:crypto';
import { PgwError } from '../../firmware/src/util/errors.js';
import { isUnsigned } from '../bundle/format.js';
import type { TrustedKey } from '../bundle/keys.js';
import { hashFileRange, readBundleHead, verifyBundleFile } from '../bundle/read.js';
import { otaDesiredSchema } from '../protocol/desired.js';
import type { InstallPolicy, MaintenanceWindow, OtaDesired } from '../protocol/desired.js';

export interface TargetOptions {
  bundle: string;
  url: string;
  policy?: InstallPolicy;
  notBefore?: string;
  window?: MaintenanceWindow;
  /** Base64 detached signature, for an unsigned bundle. */
  signature?: string;
  /** When given, the bundle is fully verified with these keys first. */
  trusted?: readonly TrustedKey[];
  id?: string;
  issuedAt?: string;
}

export async function targetForBundle(o: TargetOptions): Promise<OtaDesired> {
  let sha256: string;
  let size: number;
  let version: string;
  if (o.trusted && o.trusted.length > 0) {
    const r = await verifyBundleFile(o.bundle, { trusted: o.trusted, detached: o.signature });
    sha256 = r.bundleSha256;
    size = r.bundleSize;
    version = r.head.manifest.version;
  } else {
    const head = await readBundleHead(o.bundle);
    if (isUnsigned(head.header) && !o.signature)
      throw new PgwError('PGW_E_OTA_SIGNATURE', `${o.bundle} is not signed (pgw ota sign), and no detached signature was given`);
    ({ sha256, size } = await hashFileRange(o.bundle));
    version = head.manifest.version;
  }
  const candidate = {
    id: o.id ?? `${version}-${randomBytes(6).toString('hex')}`,
    version,
    url: o.url,
    size,
    sha256,
    ...(o.signature ? { signature: o.signature } : {}),
    policy: o.policy ?? 'window',
    ...(o.notBefore ? { notBefore: o.notBefore } : {}),
    ...(o.window ? { window: o.window } : {}),
    ...(o.issuedAt ? { issuedAt: o.issuedAt } : {}),
  };
  const r = otaDesiredSchema.safeParse(candidate);
  if (!r.success)
    throw new PgwError('PGW_E_OTA_BUNDLE', `the target would be invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
