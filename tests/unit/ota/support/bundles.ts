/**
 * Test bundles: keys, images with chosen content and size, bundles built
 * through the real build/sign code, and the ota/desired that points at them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../../../../ota/bundle/build.js';
import { hashFileRange } from '../../../../ota/bundle/read.js';
import { generateSigningKeyPair, parsePrivateKey, trustedKeyFromPem } from '../../../../ota/bundle/keys.js';
import type { TrustedKey } from '../../../../ota/bundle/keys.js';
import type { OtaDesired } from '../../../../ota/protocol/desired.js';

export interface TestKeys {
  privateKey: KeyObject;
  privatePem: string;
  publicPem: string;
  trusted: TrustedKey;
}

export function makeKeys(): TestKeys {
  const k = generateSigningKeyPair();
  return { privateKey: parsePrivateKey(k.privatePem), privatePem: k.privatePem, publicPem: k.publicPem, trusted: trustedKeyFromPem(k.publicPem, 'test key') };
}

export async function tempDir(prefix = 'pgw-ota-test-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * A raw "root file system" image for the file backend: a first line of JSON
 * the test gateway reads from its booted slot (version, and whether it should
 * pass its health check), then filler up to `size` bytes.
 */
export async function makeImage(path: string, options: { version: string; healthy?: boolean; size?: number }): Promise<void> {
  const first = Buffer.from(`${JSON.stringify({ version: options.version, healthy: options.healthy ?? true })}\n`);
  const size = Math.max(options.size ?? 4096, first.length);
  // Incompressible filler, deterministic per version so two images differ: a 1 MiB block expanded
  // from the version's hash, stamped with its index, streamed (a 1 GiB image never sits in memory).
  const BLOCK = 1 << 20;
  const base = Buffer.alloc(BLOCK);
  const seed = createHash('sha256').update(options.version).digest();
  for (let off = 0; off < BLOCK; off += 32) createHash('sha256').update(seed).update(String(off)).digest().copy(base, off);
  const fh = await open(path, 'w');
  try {
    for (let pos = 0, i = 0; pos < size; pos += BLOCK, i++) {
      const n = Math.min(BLOCK, size - pos);
      const block = Buffer.from(base.subarray(0, n));
      if (n >= 16) block.writeBigUInt64BE(BigInt(i), 8);
      if (pos === 0) first.copy(block, 0, 0, Math.min(first.length, n));
      await fh.write(block, 0, n, pos);
    }
  } finally {
    await fh.close();
  }
}

export interface BuiltBundle {
  path: string;
  size: number;
  sha256: string;
  version: string;
}

export async function makeBundle(options: {
  dir: string;
  version: string;
  keys?: TestKeys;
  compatible?: string[];
  minFromVersion?: string;
  allowDowngrade?: boolean;
  healthy?: boolean;
  imageSize?: number;
  name?: string;
}): Promise<BuiltBundle> {
  const name = options.name ?? `bundle-${options.version}-${randomBytes(3).toString('hex')}`;
  const image = join(options.dir, `${name}.img`);
  await makeImage(image, { version: options.version, healthy: options.healthy, size: options.imageSize });
  const out = join(options.dir, `${name}.pgwota`);
  const r = await buildBundle({
    input: { kind: 'image', path: image },
    out,
    version: options.version,
    compatible: options.compatible ?? ['test-board'],
    minFromVersion: options.minFromVersion,
    allowDowngrade: options.allowDowngrade,
    privateKey: options.keys?.privateKey,
  });
  await rm(image);
  const { sha256 } = await hashFileRange(out);
  return { path: out, size: r.size, sha256, version: options.version };
}

export function desiredFor(b: BuiltBundle, url: string, extra: Partial<OtaDesired> = {}): OtaDesired {
  return { id: `t-${randomBytes(4).toString('hex')}`, version: b.version, url, size: b.size, sha256: b.sha256, policy: 'now', ...extra };
}
