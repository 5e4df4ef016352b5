/**
 * Building and (re)signing bundle files. The image is streamed twice (once
 * to hash it, once to copy it), never held in memory; the output is
 * written to a temporary file and renamed into place, so a half-written
 * bundle never carries the final name.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PgwError } from '../../firmware/src/util/errors.js';
import { HEADER_SIZE, ZERO_KEY_ID, encodeHeader } from './format.js';
import { MANIFEST_SCHEMA, parseManifest, serializeManifest } from './manifest.js';
import type { Manifest, PayloadFormat } from './manifest.js';
import { hashFileRange, readBundleHead } from './read.js';
import { signHeader } from './sign.js';

export type BuildInput =
  /** A file system image (ext4, squashfs…) written as is to a raw slot. */
  | { kind: 'image'; path: string }
  /** A tarball of a root tree, unpacked into a directory slot. */
  | { kind: 'tarball'; path: string }
  /** A root tree, packed into a tarball here (GNU tar, sorted names, numeric owners). */
  | { kind: 'directory'; path: string };

export interface BuildOptions {
  input: BuildInput;
  out: string;
  version: string;
  compatible: string[];
  minFromVersion?: string;
  allowDowngrade?: boolean;
  notes?: string;
  /** ISO time; now by default. Informational only (never checked on the box). */
  createdAt?: string;
  /** Sign at build time; else the bundle is unsigned until `pgw ota sign`. */
  privateKey?: KeyObject;
}

export interface BuildResult {
  manifest: Manifest;
  size: number;
  signed: boolean;
}

function runTar(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new PgwError('PGW_E_OTA_BUNDLE', `cannot run tar: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new PgwError('PGW_E_OTA_BUNDLE', `tar exited ${code}: ${err.trim()}`))));
  });
}

async function writeBundle(out: string, header: Buffer, manifest: Buffer, imagePath: string): Promise<void> {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  try {
    const ws = createWriteStream(tmp, { mode: 0o644 });
    ws.write(header);
    ws.write(manifest);
    await pipeline(createReadStream(imagePath, { highWaterMark: 1 << 20 }), ws);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function buildBundle(options: BuildOptions): Promise<BuildResult> {
  let scratch: string | undefined;
  try {
    let imagePath = options.input.path;
    let format: PayloadFormat = options.input.kind === 'image' ? 'raw' : 'tar';
    if (options.input.kind === 'directory') {
      const st = await stat(options.input.path);
      if (!st.isDirectory()) throw new PgwError('PGW_E_OTA_BUNDLE', `${options.input.path} is not a directory`);
      scratch = await mkdtemp(join(tmpdir(), 'pgw-ota-build-'));
      imagePath = join(scratch, 'rootfs.tar');
      await runTar(['--sort=name', '--numeric-owner', '-C', options.input.path, '-cf', imagePath, '.']);
      format = 'tar';
    } else {
      const st = await stat(imagePath);
      if (!st.isFile()) throw new PgwError('PGW_E_OTA_BUNDLE', `${imagePath} is not a file`);
    }
    const { sha256, size } = await hashFileRange(imagePath);
    // parseManifest validates every field, so a bad version or board name fails here, not on the box.
    const manifest = parseManifest(
      JSON.stringify({
        schema: MANIFEST_SCHEMA,
        version: options.version,
        compatible: options.compatible,
        ...(options.minFromVersion !== undefined ? { minFromVersion: options.minFromVersion } : {}),
        allowDowngrade: options.allowDowngrade ?? false,
        createdAt: options.createdAt ?? new Date().toISOString(),
        image: { format, size, sha256 },
        ...(options.notes !== undefined ? { notes: options.notes } : {}),
      }),
    );
    const manifestBytes = serializeManifest(manifest);
    let header = encodeHeader({ manifestLength: manifestBytes.length, imageLength: size, keyId: ZERO_KEY_ID, signature: Buffer.alloc(64) });
    if (options.privateKey) header = signHeader(header, manifestBytes, options.privateKey);
    await writeBundle(options.out, header, manifestBytes, imagePath);
    return { manifest, size: HEADER_SIZE + manifestBytes.length + size, signed: options.privateKey !== undefined };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Signs a bundle in place: only the 128-byte header changes (key id and
 * signature), so signing a 1 GiB bundle writes 128 bytes. With `out`, a
 * signed copy is written instead and the input is left alone.
 */
export async function signBundle(options: { path: string; privateKey: KeyObject; out?: string }): Promise<{ keyId: string }> {
  const head = await readBundleHead(options.path);
  const header = signHeader(head.headerBytes, head.manifestBytes, options.privateKey);
  let target = options.path;
  if (options.out && options.out !== options.path) {
    target = options.out;
    const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    try {
      await pipeline(createReadStream(options.path, { highWaterMark: 1 << 20 }), createWriteStream(tmp, { mode: 0o644 }));
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
  const fh = await open(target, 'r+');
  try {
    await fh.write(header, 0, header.length, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { keyId: header.subarray(32, 40).toString('hex') };
}
