/**
 * Test bundles: keys, images with chosen content and size, bundles built
 * through the real build/sign code, and the ota/desired that points at them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../../../../ota/bundle/build.js';
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
  const body = Buffer.alloc(size);
  first.copy(body);
  // Incompressible filler, deterministic per version so two images differ.
  const seed = createHash('sha256').update(options.version).digest();
  for (let off = first.length; off < size; off += 32) {
    const block = createHash('sha256').update(seed).update(String(off)).digest();
    block.copy(body, off, 0, Math.min(32, size - off));
  }
  await writeFile(path, body);
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
  const bytes = await readFile(out);
  return { path: out, size: r.size, sha256: createHash('sha256').update(bytes).digest('hex'), version: options.version };
}

export function desiredFor(b: BuiltBundle, url: string, extra: Partial<OtaDesired> = {}): OtaDesired {
  return { id: `t-${randomBytes(4).toString('hex')}`, version: b.version, url, size: b.size, sha256: b.sha256, policy: 'now', ...extra };
}
