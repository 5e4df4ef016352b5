/**
 * The box's identity (docs/IMAGE.md "systemd units"): an Ed25519 key pair
 * that never leaves the box, the device id and the claim code, both derived
 * from the public key so the cloud portal can check a claim code against the
 * key the box presents. First boot makes them with openssl
 * (image/rootfs/usr/lib/pgw/firstboot.sh); a factory reset makes a new set
 * here (hw/reset/factory-eraser.ts). Both must derive the same way:
 * tests/unit/hw/identity/device-identity.test.ts runs the script and checks.
 *
 * Derivation, from SHA-256 of the public key's DER (SubjectPublicKeyInfo):
 * the id is `pgw-` and the first 6 bytes in hex; the claim code is the next
 * 5 bytes (40 bits) as 8 Crockford base32 digits, most significant first,
 * shown as XXXX-XXXX (no I, L, O, U: nothing to misread on a 5x8 LCD font).
 *
 * Files in the identity directory (default /data/identity, PGW_IDENTITY_DIR):
 * device.key (PKCS#8 PEM, 0600), device.pub (SPKI PEM), device-id,
 * claim-code (until the box is claimed), claimed (written when the cloud
 * says so; its absence means "show the claim code").
 */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../firmware/src/store/atomic-file.js';

export const IDENTITY_FILES = {
  privateKey: 'device.key',
  publicKey: 'device.pub',
  deviceId: 'device-id',
  claimCode: 'claim-code',
  claimed: 'claimed',
} as const;

/** Where the image keeps it; PGW_IDENTITY_DIR moves it (tests, development). */
export const DEFAULT_IDENTITY_DIR = '/data/identity';

export function identityDirFrom(env: NodeJS.ProcessEnv): string {
  return env.PGW_IDENTITY_DIR || DEFAULT_IDENTITY_DIR;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export interface DerivedIdentity {
  deviceId: string;
  claimCode: string;
}

export interface DeviceIdentity extends DerivedIdentity {
  publicKeyPem: string;
}

/** The id and claim code of a public key (its DER SubjectPublicKeyInfo). */
export function deriveIdentity(publicKeyDer: Buffer): DerivedIdentity {
  const hash = createHash('sha256').update(publicKeyDer).digest('hex');
  // 40 bits: exact in a double (2^53), so no BigInt is needed.
  let bits = parseInt(hash.slice(12, 22), 16);
  let code = '';
  for (let i = 0; i < 8; i++) {
    code = CROCKFORD[bits % 32]! + code;
    bits = Math.floor(bits / 32);
  }
  return { deviceId: `pgw-${hash.slice(0, 12)}`, claimCode: `${code.slice(0, 4)}-${code.slice(4)}` };
}

/** The identity of a PEM public key. */
export function identityOfPublicKeyPem(pem: string): DerivedIdentity {
  return deriveIdentity(createPublicKey(pem).export({ type: 'spki', format: 'der' }));
}

/**
 * Makes a new key pair and writes the identity files into `dir` (each
 * atomically; the private key last but one, so a crash part way leaves no
 * device.key beside a device.pub of another key). The claim code is written:
 * a new identity is always unclaimed.
 */
export async function createDeviceIdentity(dir: string): Promise<DeviceIdentity> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const derived = deriveIdentity(publicKey.export({ type: 'spki', format: 'der' }));
  await writeFileAtomic(join(dir, IDENTITY_FILES.publicKey), publicKeyPem, { mode: 0o644 });
  await writeFileAtomic(join(dir, IDENTITY_FILES.privateKey), privateKeyPem, { mode: 0o600 });
  await writeFileAtomic(join(dir, IDENTITY_FILES.deviceId), `${derived.deviceId}\n`, { mode: 0o644 });
  await writeFileAtomic(join(dir, IDENTITY_FILES.claimCode), `${derived.claimCode}\n`, { mode: 0o644 });
  return { ...derived, publicKeyPem };
}

/** The identity in `dir` as its public key says, or null when there is none. */
export async function readDeviceIdentity(dir: string): Promise<DeviceIdentity | null> {
  let pem: string;
  try {
    pem = await readFile(join(dir, IDENTITY_FILES.publicKey), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return { ...identityOfPublicKeyPem(pem), publicKeyPem: pem };
}
