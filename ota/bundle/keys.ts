/**
 * Ed25519 keys for bundles (RFC 8032, through node:crypto). The private key
 * stays with whoever signs releases (PKCS#8 PEM, mode 0600); boxes carry
 * the public keys they trust (SPKI PEM), baked into the image. A key id,
 * the first 8 bytes of SHA-256 over the raw 32-byte public key, sits in the
 * bundle header so a box with several trusted keys (rotation) knows which
 * one to try, and an operator can tell which key signed a bundle.
 *
 * Trust is the key itself, not a certificate: there is no validity period
 * to compare with a clock the box may not have (RAUC's X.509 chain checks
 * fail on a box whose RTC has reset unless the check is switched off).
 * Retiring a key means shipping an image without it.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PgwError } from '../../firmware/src/util/errors.js';

export interface TrustedKey {
  id: string;
  key: KeyObject;
  /** Where it came from, for messages. */
  source: string;
}

export function generateSigningKeyPair(): { privatePem: string; publicPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** Raw 32-byte public key (the last 32 bytes of the Ed25519 SPKI DER). */
function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(rawPublicKey(pub)).digest().subarray(0, 8).toString('hex');
}

function checkEd25519(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new PgwError('PGW_E_OTA_SIGNATURE', `${source} is a ${key.asymmetricKeyType ?? 'symmetric'} key; bundles use Ed25519`);
  return key;
}

export function parsePrivateKey(pem: string, source = 'the private key'): KeyObject {
  try {
    return checkEd25519(createPrivateKey(pem), source);
  } catch (e) {
    if (e instanceof PgwError) throw e;
    throw new PgwError('PGW_E_OTA_SIGNATURE', `${source} is not a PEM private key: ${(e as Error).message}`);
  }
}

export function parsePublicKey(pem: string, source = 'the public key'): KeyObject {
  try {
    return checkEd25519(createPublicKey(pem), source);
  } catch (e) {
    if (e instanceof PgwError) throw e;
    throw new PgwError('PGW_E_OTA_SIGNATURE', `${source} is not a PEM public key: ${(e as Error).message}`);
  }
}

export async function loadPrivateKey(path: string): Promise<KeyObject> {
  return parsePrivateKey(await readFile(path, 'utf8'), path);
}

export function trustedKeyFromPem(pem: string, source: string): TrustedKey {
  const key = parsePublicKey(pem, source);
  return { id: keyIdOf(key), key, source };
}

/**
 * Trusted public keys from files and directories (every `*.pub` and
 * `*.pem` in a directory). A private key given by mistake yields its public half.
 */
export async function loadTrustedKeys(paths: readonly string[]): Promise<TrustedKey[]> {
  const out: TrustedKey[] = [];
  for (const p of paths) {
    let files: string[];
    try {
      files = (await readdir(p)).filter((n) => n.endsWith('.pub') || n.endsWith('.pem')).sort().map((n) => join(p, n));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOTDIR') {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PgwError('PGW_E_OTA_SIGNATURE', `no such key file or directory: ${p}`);
        throw e;
      }
      files = [p];
    }
    for (const f of files) out.push(trustedKeyFromPem(await readFile(f, 'utf8'), f));
  }
  return out;
}
