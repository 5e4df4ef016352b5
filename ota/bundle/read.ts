/**
 * Reading bundles: the head (header + manifest) from a buffer or a file,
 * and a full verification that streams the image through SHA-256 in
 * fixed-size chunks, so a 1 GiB image costs the same memory as a 1 MiB one.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { PgwError } from '../../firmware/src/util/errors.js';
import { HEADER_SIZE, bundleSize, decodeHeader } from './format.js';
import type { BundleHeader } from './format.js';
import { parseManifest } from './manifest.js';
import type { Manifest } from './manifest.js';
import { verifyHead } from './sign.js';
import type { HeadVerification } from './sign.js';
import type { TrustedKey } from './keys.js';

export interface BundleHead {
  /** The raw 128 header bytes. */
  headerBytes: Buffer;
  header: BundleHeader;
  manifestBytes: Buffer;
  manifest: Manifest;
}

/**
 * Parses a head from the first bytes of a bundle. Returns `{ need }` when
 * `buf` is too short to hold the manifest the header announces.
 */
export function parseHead(buf: Buffer): BundleHead | { need: number } {
  if (buf.length < HEADER_SIZE) return { need: HEADER_SIZE };
  const header = decodeHeader(buf);
  const end = HEADER_SIZE + header.manifestLength;
  if (buf.length < end) return { need: end };
  const manifestBytes = Buffer.from(buf.subarray(HEADER_SIZE, end));
  const manifest = parseManifest(manifestBytes);
  if (manifest.image.size !== header.imageLength)
    throw new PgwError('PGW_E_OTA_BUNDLE', `the manifest says the image is ${manifest.image.size} bytes, the header ${header.imageLength}`);
  return { headerBytes: Buffer.from(buf.subarray(0, HEADER_SIZE)), header, manifestBytes, manifest };
}

export async function readBundleHead(path: string): Promise<BundleHead> {
  const fh = await open(path, 'r');
  try {
    let want = HEADER_SIZE;
    for (;;) {
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, 0);
      if (bytesRead < want) throw new PgwError('PGW_E_OTA_BUNDLE', `${path} is truncated (${bytesRead} bytes, the head needs ${want})`);
      const r = parseHead(buf);
      if ('need' in r) {
        want = r.need;
        continue;
      }
      return r;
    }
  } finally {
    await fh.close();
  }
}

/** SHA-256 (hex) and length of a byte range of a file, streamed. */
export async function hashFileRange(path: string, start = 0, end?: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const stream = createReadStream(path, { start, end: end === undefined ? undefined : end - 1, highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

export interface VerifyReport {
  head: BundleHead;
  signature: HeadVerification;
  /** SHA-256 of the whole bundle file: what ota/desired names. */
  bundleSha256: string;
  bundleSize: number;
}

/**
 * Verifies a bundle file completely: signature over the head, file length,
 * image SHA-256 against the manifest. Throws PGW_E_OTA_SIGNATURE or
 * PGW_E_OTA_BUNDLE.
 */
export async function verifyBundleFile(path: string, options: { trusted: readonly TrustedKey[]; detached?: string }): Promise<VerifyReport> {
  const head = await readBundleHead(path);
  const signature = verifyHead({ header: head.headerBytes, manifest: head.manifestBytes, trusted: options.trusted, detached: options.detached });
  const st = await stat(path);
  const expected = bundleSize(head.header);
  if (st.size !== expected) throw new PgwError('PGW_E_OTA_BUNDLE', `${path} is ${st.size} bytes; its header says ${expected}`);
  // One pass: the whole-file hash and the image hash together.
  const whole = createHash('sha256');
  const image = createHash('sha256');
  let offset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    const from = Math.max(0, head.header.imageOffset - offset);
    if (from < chunk.length) image.update(from === 0 ? chunk : chunk.subarray(from));
    offset += chunk.length;
  }
  const imageSha = image.digest('hex');
  if (imageSha !== head.manifest.image.sha256)
    throw new PgwError('PGW_E_OTA_BUNDLE', `the image SHA-256 is ${imageSha}; the signed manifest says ${head.manifest.image.sha256}`);
  return { head, signature, bundleSha256: whole.digest('hex'), bundleSize: st.size };
}
