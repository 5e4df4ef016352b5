/**
 * Signing and verifying the bundle head (header + manifest) with Ed25519.
 *
 * The signed message is a domain tag, the 128-byte header with its
 * signature field zeroed, and the manifest bytes. The tag keeps a bundle
 * signature from ever being valid as some other message signed with the
 * same key. Because the manifest holds the image's SHA-256 and size and the
 * header holds the offsets, one signature authenticates the whole file.
 *
 * Verification uses no clock at all (see keys.ts, manifest.ts).
 */
import { sign as edSign, verify as edVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { PgwError } from '../../firmware/src/util/errors.js';
import { HEADER_SIZE, SIGNATURE_LENGTH, SIGNATURE_OFFSET, KEY_ID_OFFSET, decodeHeader, headerForSigning, isUnsigned } from './format.js';
import type { BundleHeader } from './format.js';
import { keyIdOf } from './keys.js';
import type { TrustedKey } from './keys.js';

export const SIGNATURE_DOMAIN = Buffer.from('pgw-ota-bundle-v1\0', 'latin1');

export function signingMessage(header: Buffer, manifest: Buffer): Buffer {
  return Buffer.concat([SIGNATURE_DOMAIN, headerForSigning(header), manifest]);
}

/**
 * Returns a new header with the key id and signature filled in for `manifest`.
 * The key id is set before signing, so it is covered by the signature.
 */
export function signHeader(header: Buffer, manifest: Buffer, privateKey: KeyObject): Buffer {
  const out = Buffer.from(header.subarray(0, HEADER_SIZE));
  Buffer.from(keyIdOf(privateKey), 'hex').copy(out, KEY_ID_OFFSET);
  out.fill(0, SIGNATURE_OFFSET, SIGNATURE_OFFSET + SIGNATURE_LENGTH);
  const sig = edSign(null, signingMessage(out, manifest), privateKey);
  sig.copy(out, SIGNATURE_OFFSET);
  return out;
}

export interface HeadVerification {
  keyId: string;
  keySource: string;
  /** `embedded`: the bundle's own signature; `detached`: one given with the target (ota/desired). */
  signature: 'embedded' | 'detached';
}

/**
 * Checks the head's signature against the trusted keys; throws
 * PGW_E_OTA_SIGNATURE when it is missing or no key verifies it.
 *
 * `detached` (base64 or Buffer) is a signature over the same message given
 * outside the bundle (ota/desired `signature`): used when the bundle itself
 * is unsigned; when both exist they must be the same bytes, so nobody can
 * pair a good bundle with a different claim.
 */
export function verifyHead(options: {
  header: Buffer;
  manifest: Buffer;
  trusted: readonly TrustedKey[];
  detached?: Buffer | string;
}): HeadVerification {
  const h: BundleHeader = decodeHeader(options.header);
  const detached = typeof options.detached === 'string' ? Buffer.from(options.detached, 'base64') : options.detached;
  if (detached !== undefined && detached.length !== SIGNATURE_LENGTH)
    throw new PgwError('PGW_E_OTA_SIGNATURE', `a detached signature is ${SIGNATURE_LENGTH} bytes; got ${detached.length}`);
  const embedded = isUnsigned(h) ? undefined : h.signature;
  if (embedded && detached && !embedded.equals(detached))
    throw new PgwError('PGW_E_OTA_SIGNATURE', 'the target names a signature that differs from the bundle’s own');
  const sig = embedded ?? detached;
  if (!sig) throw new PgwError('PGW_E_OTA_SIGNATURE', 'the bundle is not signed');
  if (options.trusted.length === 0) throw new PgwError('PGW_E_OTA_SIGNATURE', 'no trusted keys are configured');
  const message = signingMessage(options.header, options.manifest);
  // Try the key the header names first, then the rest (a detached signature
  // over an unsigned header carries the zero key id).
  const ordered = [...options.trusted].sort((a, b) => Number(b.id === h.keyId) - Number(a.id === h.keyId));
  for (const k of ordered) {
    if (edVerify(null, message, k.key, sig)) return { keyId: k.id, keySource: k.source, signature: embedded ? 'embedded' : 'detached' };
  }
  throw new PgwError('PGW_E_OTA_SIGNATURE', `the signature does not verify with any trusted key (bundle key id ${h.keyId})`, {
    context: { keyId: h.keyId, trusted: options.trusted.map((k) => k.id) },
  });
}

/** A detached signature (base64) for a head, e.g. for a target published alongside an unsigned bundle. */
export function detachedSignature(header: Buffer, manifest: Buffer, privateKey: KeyObject): string {
  return edSign(null, signingMessage(header, manifest), privateKey).toString('base64');
}
