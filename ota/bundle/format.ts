/**
 * The bundle file: a fixed 128-byte header, the manifest (UTF-8 JSON), then
 * the root filesystem image, all in one file.
 *
 *   offset  size  field
 *   0       8     magic "PGWOTA1\n" (the \n catches text-mode mangling, as PNG's does)
 *   8       2     format version (1), big-endian
 *   10      2     header size (128)
 *   12      4     manifest length in bytes (1 .. 65536)
 *   16      8     image offset (= 128 + manifest length)
 *   24      8     image length in bytes
 *   32      8     signing key id (first 8 bytes of SHA-256 of the raw Ed25519 public key); zero when unsigned
 *   40      64    Ed25519 signature; zero when unsigned
 *   104     24    reserved, zero
 *   128     M     manifest JSON
 *   128+M   N     image
 *
 * Why this layout (and not a tar like Mender's, a CPIO like SWUpdate's or a
 * SquashFS with a trailing CMS signature like RAUC's): the signature and the
 * manifest come first and are small, so a box can fetch the first bytes with
 * one HTTP Range request, check the signature and every precondition (board,
 * version, free space) before it downloads a byte of the image, then hash
 * the image as it streams past without ever holding it in memory. The image
 * offset and length are fixed by the header, so a Range resume needs no
 * parsing state. RAUC's signature sits after the payload, which makes
 * exactly this impossible without a second file.
 *
 * The signature covers a domain tag, the whole header with the signature
 * field zeroed (so lengths, offsets, key id and reserved bytes are all
 * authenticated) and the manifest bytes; the manifest in turn carries the
 * image's SHA-256 and size. See sign.ts.
 */
import { PgwError } from '../../firmware/src/util/errors.js';

export const BUNDLE_MAGIC = Buffer.from('PGWOTA1\n', 'latin1');
export const BUNDLE_FORMAT_VERSION = 1;
export const HEADER_SIZE = 128;
export const MAX_MANIFEST_LENGTH = 64 * 1024;
export const KEY_ID_OFFSET = 32;
export const KEY_ID_LENGTH = 8;
export const SIGNATURE_OFFSET = 40;
export const SIGNATURE_LENGTH = 64;
const RESERVED_OFFSET = 104;

/** The fixed-size header, decoded. */
export interface BundleHeader {
  formatVersion: number;
  manifestLength: number;
  imageOffset: number;
  imageLength: number;
  /** Hex; all zeros when unsigned. */
  keyId: string;
  /** All zeros when unsigned. */
  signature: Buffer;
}

export function isUnsigned(header: BundleHeader): boolean {
  return header.signature.every((b) => b === 0);
}

/** Total bundle size the header promises. */
export function bundleSize(header: BundleHeader): number {
  return header.imageOffset + header.imageLength;
}

function bad(message: string): PgwError {
  return new PgwError('PGW_E_OTA_BUNDLE', message);
}

export function encodeHeader(h: Omit<BundleHeader, 'formatVersion' | 'imageOffset'> & { imageOffset?: number }): Buffer {
  if (!Number.isInteger(h.manifestLength) || h.manifestLength < 1 || h.manifestLength > MAX_MANIFEST_LENGTH)
    throw bad(`manifest length ${h.manifestLength} is outside 1..${MAX_MANIFEST_LENGTH}`);
  if (!Number.isSafeInteger(h.imageLength) || h.imageLength < 0) throw bad(`bad image length ${h.imageLength}`);
  const imageOffset = HEADER_SIZE + h.manifestLength;
  if (h.imageOffset !== undefined && h.imageOffset !== imageOffset) throw bad('image offset must follow the manifest');
  const buf = Buffer.alloc(HEADER_SIZE);
  BUNDLE_MAGIC.copy(buf, 0);
  buf.writeUInt16BE(BUNDLE_FORMAT_VERSION, 8);
  buf.writeUInt16BE(HEADER_SIZE, 10);
  buf.writeUInt32BE(h.manifestLength, 12);
  buf.writeBigUInt64BE(BigInt(imageOffset), 16);
  buf.writeBigUInt64BE(BigInt(h.imageLength), 24);
  const keyId = Buffer.from(h.keyId, 'hex');
  if (keyId.length !== KEY_ID_LENGTH) throw bad('key id must be 8 bytes of hex');
  keyId.copy(buf, KEY_ID_OFFSET);
  if (h.signature.length !== SIGNATURE_LENGTH) throw bad('signature must be 64 bytes');
  h.signature.copy(buf, SIGNATURE_OFFSET);
  return buf;
}

/** Decodes and checks a header; the buffer may be longer than the header. */
export function decodeHeader(buf: Buffer): BundleHeader {
  if (buf.length < HEADER_SIZE) throw bad(`a bundle starts with a ${HEADER_SIZE}-byte header; got ${buf.length} bytes`);
  if (!buf.subarray(0, 8).equals(BUNDLE_MAGIC)) throw bad('not an OTA bundle (bad magic)');
  const formatVersion = buf.readUInt16BE(8);
  if (formatVersion !== BUNDLE_FORMAT_VERSION) throw bad(`bundle format ${formatVersion} is not supported (this firmware reads ${BUNDLE_FORMAT_VERSION})`);
  if (buf.readUInt16BE(10) !== HEADER_SIZE) throw bad('bad header size');
  const manifestLength = buf.readUInt32BE(12);
  if (manifestLength < 1 || manifestLength > MAX_MANIFEST_LENGTH) throw bad(`manifest length ${manifestLength} is outside 1..${MAX_MANIFEST_LENGTH}`);
  const imageOffset = buf.readBigUInt64BE(16);
  const imageLength = buf.readBigUInt64BE(24);
  if (imageOffset !== BigInt(HEADER_SIZE + manifestLength)) throw bad('image offset does not follow the manifest');
  if (imageLength > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('image length too large');
  if (!buf.subarray(RESERVED_OFFSET, HEADER_SIZE).every((b) => b === 0)) throw bad('reserved header bytes are not zero');
  return {
    formatVersion,
    manifestLength,
    imageOffset: Number(imageOffset),
    imageLength: Number(imageLength),
    keyId: buf.subarray(KEY_ID_OFFSET, KEY_ID_OFFSET + KEY_ID_LENGTH).toString('hex'),
    signature: Buffer.from(buf.subarray(SIGNATURE_OFFSET, SIGNATURE_OFFSET + SIGNATURE_LENGTH)),
  };
}

/** The header with the signature field zeroed: what the signature covers (with the manifest). */
export function headerForSigning(header: Buffer): Buffer {
  const copy = Buffer.from(header.subarray(0, HEADER_SIZE));
  copy.fill(0, SIGNATURE_OFFSET, SIGNATURE_OFFSET + SIGNATURE_LENGTH);
  return copy;
}

export const ZERO_KEY_ID = '0'.repeat(KEY_ID_LENGTH * 2);
