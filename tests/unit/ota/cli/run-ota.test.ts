/** `pgw ota keygen|build|sign|verify|inspect` in-process, with exit codes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOta } from '../../../../ota/cli/run-ota.js';
import type { OtaCliIo } from '../../../../ota/cli/io.js';
import { makeImage, tempDir } from '../support/bundles.js';

function io(): OtaCliIo & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    env: {},
    out: (t: string) => void (o.stdout += t),
    err: (t: string) => void (o.stderr += t),
  };
  return o;
}

let dir: Awaited<ReturnType<typeof tempDir>>;
test.before(async () => {
  dir = await tempDir();
});
test.after(async () => {
  await dir.remove();
});

test('keygen → build (unsigned) → verify fails (1) → sign → verify passes → inspect', async () => {
  const k = join(dir.path, 'release');
  let c = io();
  assert.is(await runOta(['keygen', '--out', k], c), 0, c.stderr);
  assert.match(c.stdout, /key id [0-9a-f]{16}/);
  assert.is((await stat(`${k}.key`)).mode & 0o777, 0o600);
  c = io();
  assert.is(await runOta(['keygen', '--out', k], c), 1, 'refuses to overwrite');
  const img = join(dir.path, 'rootfs.img');
  await makeImage(img, { version: '2.0.0', size: 50_000 });
  const bundle = join(dir.path, 'b.pgwota');
  c = io();
  assert.is(await runOta(['build', '--image', img, '--version', '2.0.0', '--board', 'rpi4-poe', '--board', 'x86-poe', '--min-from', '1.0.0', '--out', bundle], c), 0, c.stderr);
  assert.match(c.stdout, /UNSIGNED/);
  c = io();
  assert.is(await runOta(['verify', '--pub', `${k}.pub`, bundle], c), 1);
  assert.match(c.stderr, /not signed/);
  c = io();
  assert.is(await runOta(['sign', '--key', `${k}.key`, bundle], c), 0, c.stderr);
  c = io();
  assert.is(await runOta(['verify', '--pub', `${k}.pub`, '--json', bundle], c), 0, c.stderr);
  const v = JSON.parse(c.stdout) as { valid: boolean; version: string; compatible: string[]; sha256: string };
  assert.ok(v.valid);
  assert.is(v.version, '2.0.0');
  assert.equal(v.compatible, ['rpi4-poe', 'x86-poe']);
  c = io();
  assert.is(await runOta(['inspect', '--json', bundle], c), 0);
  const info = JSON.parse(c.stdout) as { signed: boolean; sha256: string; manifest: { minFromVersion: string } };
  assert.ok(info.signed);
  assert.is(info.sha256, v.sha256);
  assert.is(info.manifest.minFromVersion, '1.0.0');
  c = io();
  assert.is(await runOta(['inspect', bundle], c), 0);
  assert.match(c.stdout, /boards:\s+rpi4-poe, x86-poe/);
});

test('verify with the wrong key, and a detached signature for an unsigned bundle', async () => {
  const a = join(dir.path, 'a');
  const b = join(dir.path, 'b');
  await runOta(['keygen', '--out', a], io());
  await runOta(['keygen', '--out', b], io());
  const img = join(dir.path, 'x.img');
  await makeImage(img, { version: '3.0.0' });
  const bundle = join(dir.path, 'x.pgwota');
  assert.is(await runOta(['build', '--image', img, '--version', '3.0.0', '--board', 'x86-poe', '--key', `${a}.key`, '--out', bundle], io()), 0);
  let c = io();
  assert.is(await runOta(['verify', '--pub', `${b}.pub`, bundle], c), 1);
  assert.match(c.stderr, /does not verify/);
  // Trusting a directory of keys.
  c = io();
  assert.is(await runOta(['verify', '--pub', dir.path, bundle], c), 0, c.stderr);
  const unsigned = join(dir.path, 'u.pgwota');
  await runOta(['build', '--image', img, '--version', '3.0.1', '--board', 'x86-poe', '--out', unsigned], io());
  c = io();
  assert.is(await runOta(['sign', '--key', `${b}.key`, '--detached', unsigned], c), 0);
  const sig = c.stdout.trim();
  assert.is(Buffer.from(sig, 'base64').length, 64);
  c = io();
  assert.is(await runOta(['verify', '--pub', `${b}.pub`, '--signature', sig, unsigned], c), 0, c.stderr);
  assert.match(c.stdout, /detached/);
});

test('usage errors exit 2; a missing or garbage bundle exits 1', async () => {
  let c = io();
  assert.is(await runOta([], c), 2);
  c = io();
  assert.is(await runOta(['frobnicate'], c), 2);
  assert.match(c.stderr, /unknown command/);
  c = io();
  assert.is(await runOta(['build', '--image', 'x', '--rootfs', 'y', '--version', '1.0.0', '--board', 'b', '--out', 'z'], c), 2);
  c = io();
  assert.is(await runOta(['verify', 'x.pgwota'], c), 2);
  c = io();
  assert.is(await runOta(['inspect', '--bogus', 'x'], c), 2);
  c = io();
  assert.is(await runOta(['inspect', join(dir.path, 'missing.pgwota')], c), 1);
  const junk = join(dir.path, 'junk.pgwota');
  await writeFile(junk, Buffer.alloc(500, 1));
  c = io();
  assert.is(await runOta(['inspect', junk], c), 1);
  assert.match(c.stderr, /not an OTA bundle/);
  c = io();
  assert.is(await runOta(['--help'], c), 0);
  assert.match(c.stdout, /pgw ota keygen/);
});

test.run();
