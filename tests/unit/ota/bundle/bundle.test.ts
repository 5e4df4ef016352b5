import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBundle, signBundle } from '../../../../ota/bundle/build.js';
import { HEADER_SIZE, decodeHeader, encodeHeader, isUnsigned, ZERO_KEY_ID } from '../../../../ota/bundle/format.js';
import { readBundleHead, verifyBundleFile } from '../../../../ota/bundle/read.js';
import { detachedSignature, verifyHead } from '../../../../ota/bundle/sign.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { makeBundle, makeKeys, tempDir } from '../support/bundles.js';

const keys = makeKeys();
const other = makeKeys();

test('header round-trips and rejects bad magic, lengths and reserved bytes', () => {
  const h = encodeHeader({ manifestLength: 300, imageLength: 1 << 20, keyId: ZERO_KEY_ID, signature: Buffer.alloc(64) });
  assert.is(h.length, HEADER_SIZE);
  const d = decodeHeader(h);
  assert.is(d.manifestLength, 300);
  assert.is(d.imageOffset, HEADER_SIZE + 300);
  assert.is(d.imageLength, 1 << 20);
  assert.ok(isUnsigned(d));
  const badMagic = Buffer.from(h);
  badMagic[0] = 0x58;
  assert.throws(() => decodeHeader(badMagic), (e: unknown) => isPgwError(e, 'PGW_E_OTA_BUNDLE'));
  const reserved = Buffer.from(h);
  reserved[120] = 1;
  assert.throws(() => decodeHeader(reserved), /reserved/);
  const offset = Buffer.from(h);
  offset.writeBigUInt64BE(999n, 16);
  assert.throws(() => decodeHeader(offset), /offset/);
  assert.throws(() => encodeHeader({ manifestLength: 70_000, imageLength: 1, keyId: ZERO_KEY_ID, signature: Buffer.alloc(64) }));
});

test('build (signed) then verify: manifest fields, sizes and both hashes', async () => {
  const t = await tempDir();
  try {
    const b = await makeBundle({ dir: t.path, version: '1.4.0', keys, compatible: ['rpi4-poe', 'x86-poe'], minFromVersion: '1.0.0', imageSize: 300_000 });
    const r = await verifyBundleFile(b.path, { trusted: [keys.trusted] });
    assert.is(r.head.manifest.version, '1.4.0');
    assert.equal(r.head.manifest.compatible, ['rpi4-poe', 'x86-poe']);
    assert.is(r.head.manifest.minFromVersion, '1.0.0');
    assert.is(r.head.manifest.allowDowngrade, false);
    assert.is(r.head.manifest.image.size, 300_000);
    assert.is(r.head.manifest.image.format, 'raw');
    assert.is(r.bundleSize, b.size);
    assert.is(r.bundleSha256, b.sha256);
    assert.is(r.signature.keyId, keys.trusted.id);
    // The image in the file hashes to what the manifest says.
    const bytes = await readFile(b.path);
    const img = bytes.subarray(r.head.header.imageOffset);
    assert.is(createHash('sha256').update(img).digest('hex'), r.head.manifest.image.sha256);
  } finally {
    await t.remove();
  }
});

test('an untrusted key, a flipped manifest byte and a flipped image byte are each caught', async () => {
  const t = await tempDir();
  try {
    const b = await makeBundle({ dir: t.path, version: '2.0.0', keys });
    let err: unknown;
    try {
      await verifyBundleFile(b.path, { trusted: [other.trusted] });
    } catch (e) {
      err = e;
    }
    assert.ok(isPgwError(err, 'PGW_E_OTA_SIGNATURE'), 'untrusted key');

    const head = await readBundleHead(b.path);
    // Manifest tamper: change a byte inside the version string but keep it valid JSON.
    const bytes = await readFile(b.path);
    const at = bytes.indexOf(Buffer.from('"2.0.0"'), HEADER_SIZE) + 1;
    const tampered = Buffer.from(bytes);
    tampered[at] = '3'.charCodeAt(0);
    const p2 = join(t.path, 'manifest-tampered.pgwota');
    await writeFile(p2, tampered);
    err = undefined;
    try {
      await verifyBundleFile(p2, { trusted: [keys.trusted] });
    } catch (e) {
      err = e;
    }
    assert.ok(isPgwError(err, 'PGW_E_OTA_SIGNATURE'), 'manifest tamper');

    // Image tamper: the signature still verifies, the image hash does not.
    const img = Buffer.from(bytes);
    img[head.header.imageOffset + 1000] = img[head.header.imageOffset + 1000]! ^ 0xff;
    const p3 = join(t.path, 'image-tampered.pgwota');
    await writeFile(p3, img);
    err = undefined;
    try {
      await verifyBundleFile(p3, { trusted: [keys.trusted] });
    } catch (e) {
      err = e;
    }
    assert.ok(isPgwError(err, 'PGW_E_OTA_BUNDLE') && /SHA-256/.test(err.message), 'image tamper');

    // Truncation
    const p4 = join(t.path, 'short.pgwota');
    await writeFile(p4, bytes.subarray(0, bytes.length - 1));
    await verifyBundleFile(p4, { trusted: [keys.trusted] }).then(
      () => assert.unreachable('truncated bundle verified'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_BUNDLE')),
    );
  } finally {
    await t.remove();
  }
});

test('unsigned bundle: refused, then sign in place writes only the header, then verifies', async () => {
  const t = await tempDir();
  try {
    const b = await makeBundle({ dir: t.path, version: '1.0.1' });
    await verifyBundleFile(b.path, { trusted: [keys.trusted] }).then(
      () => assert.unreachable('unsigned verified'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_SIGNATURE') && /not signed/.test(e.message)),
    );
    const before = await readFile(b.path);
    const { keyId } = await signBundle({ path: b.path, privateKey: keys.privateKey });
    assert.is(keyId, keys.trusted.id);
    const after = await readFile(b.path);
    assert.is(after.length, before.length);
    assert.ok(after.subarray(HEADER_SIZE).equals(before.subarray(HEADER_SIZE)), 'only the header changed');
    await verifyBundleFile(b.path, { trusted: [other.trusted, keys.trusted] });
  } finally {
    await t.remove();
  }
});

test('a detached signature verifies an unsigned head, and must match an embedded one', async () => {
  const t = await tempDir();
  try {
    const b = await makeBundle({ dir: t.path, version: '1.0.2' });
    const head = await readBundleHead(b.path);
    const sig = detachedSignature(head.headerBytes, head.manifestBytes, keys.privateKey);
    const v = verifyHead({ header: head.headerBytes, manifest: head.manifestBytes, trusted: [keys.trusted], detached: sig });
    assert.is(v.signature, 'detached');
    const wrong = detachedSignature(head.headerBytes, head.manifestBytes, other.privateKey);
    assert.throws(() => verifyHead({ header: head.headerBytes, manifest: head.manifestBytes, trusted: [keys.trusted], detached: wrong }));
    const signed = await makeBundle({ dir: t.path, version: '1.0.3', keys });
    const sh = await readBundleHead(signed.path);
    assert.throws(
      () => verifyHead({ header: sh.headerBytes, manifest: sh.manifestBytes, trusted: [keys.trusted], detached: sig }),
      /differs/,
    );
  } finally {
    await t.remove();
  }
});

test('verification reads no clock: a manifest created in the future or the past still verifies', async () => {
  const t = await tempDir();
  try {
    const img = join(t.path, 'x.img');
    await writeFile(img, Buffer.alloc(1000, 1));
    for (const createdAt of ['2099-01-01T00:00:00Z', '1971-01-01T00:00:00Z']) {
      const out = join(t.path, `${createdAt.slice(0, 4)}.pgwota`);
      await buildBundle({ input: { kind: 'image', path: img }, out, version: '1.0.0', compatible: ['x86-poe'], createdAt, privateKey: keys.privateKey });
      const r = await verifyBundleFile(out, { trusted: [keys.trusted] });
      assert.is(r.head.manifest.createdAt, createdAt);
    }
  } finally {
    await t.remove();
  }
});

test('build from a directory makes a tar payload; bad inputs are refused before writing', async () => {
  const t = await tempDir();
  try {
    const root = join(t.path, 'rootfs');
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(root, 'etc', 'pgw-version'), '1.1.0\n');
    const out = join(t.path, 'dir.pgwota');
    const r = await buildBundle({ input: { kind: 'directory', path: root }, out, version: '1.1.0', compatible: ['x86-poe'], privateKey: keys.privateKey });
    assert.is(r.manifest.image.format, 'tar');
    const v = await verifyBundleFile(out, { trusted: [keys.trusted] });
    // A tar archive: "ustar" magic at offset 257 of the payload.
    const fh = await open(out, 'r');
    const buf = Buffer.alloc(8);
    await fh.read(buf, 0, 8, v.head.header.imageOffset + 257);
    await fh.close();
    assert.ok(buf.toString('latin1').startsWith('ustar'));
    await buildBundle({ input: { kind: 'image', path: join(root, 'etc', 'pgw-version') }, out: join(t.path, 'bad.pgwota'), version: '1.2', compatible: ['x86-poe'] }).then(
      () => assert.unreachable('bad version accepted'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_BUNDLE') && /version/.test(e.message)),
    );
    await buildBundle({ input: { kind: 'image', path: join(root, 'etc', 'pgw-version') }, out: join(t.path, 'bad2.pgwota'), version: '1.2.0', compatible: ['Bad Board'] }).then(
      () => assert.unreachable('bad board accepted'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_BUNDLE')),
    );
  } finally {
    await t.remove();
  }
});

test.run();
