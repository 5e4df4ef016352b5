/**
 * The hash thread: what it computes over a resumed download (the part read
 * back from disk, then slots of shared memory) is the one-shot SHA-256 of
 * the whole file; order is kept; errors are sticky; close() fails what is pending.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkerHash } from '../../../../ota/agent/worker-hash.js';
import { tempDir } from '../support/bundles.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
test.before(async () => {
  dir = await tempDir();
});
test.after(async () => {
  await dir.remove();
});

test('file prefix (read once, unaligned length) + slots in order = the one-shot hash of the whole', async () => {
  const whole = randomBytes(3_000_001);
  const onDisk = 1_234_567;
  const file = join(dir.path, 'partial.bin');
  // The file holds more than the durable part (a torn tail): only `onDisk` bytes may be hashed.
  await writeFile(file, Buffer.concat([whole.subarray(0, onDisk), Buffer.alloc(5000, 0xee)]));
  const slot = 256 * 1024;
  const ring = new SharedArrayBuffer(slot * 2);
  const view = Buffer.from(ring);
  const h = new WorkerHash(ring);
  try {
    const pending: Array<Promise<void>> = [h.hashFile(file, onDisk)];
    let at = onDisk;
    let i = 0;
    while (at < whole.length) {
      const n = Math.min(slot - (i % 3) * 1000, whole.length - at);
      const s = i % 2;
      // A slot is reused only once its earlier update resolved (as the pipeline does).
      if (pending.length >= 3) await pending.shift();
      whole.copy(view, s * slot, at, at + n);
      pending.push(h.update(s * slot, n));
      await pending.at(-1);
      at += n;
      i++;
    }
    await Promise.all(pending);
    assert.is(await h.digest(), createHash('sha256').update(whole).digest('hex'));
  } finally {
    await h.close();
  }
});

test('reset starts over; a digest after reset covers only what came after', async () => {
  const ring = new SharedArrayBuffer(16);
  const view = Buffer.from(ring);
  const h = new WorkerHash(ring);
  try {
    view.write('garbage!');
    await h.update(0, 8);
    await h.reset();
    view.write('abc');
    await h.update(0, 3);
    assert.is(await h.digest(), createHash('sha256').update('abc').digest('hex'));
  } finally {
    await h.close();
  }
});

test('an error is sticky: after a short file, every later call fails too (no range is ever skipped)', async () => {
  const file = join(dir.path, 'short.bin');
  await writeFile(file, Buffer.alloc(100));
  const ring = new SharedArrayBuffer(16);
  const h = new WorkerHash(ring);
  try {
    const a = h.hashFile(file, 1000).then(() => 'ok', (e: Error) => e.message);
    const b = h.update(0, 16).then(() => 'ok', (e: Error) => e.message);
    assert.match(await a, /ended at byte 100/);
    assert.match(await b, /ended at byte 100/);
    assert.match(await h.digest().then(() => 'ok', (e: Error) => e.message), /ended at byte 100/);
  } finally {
    await h.close();
  }
});

test('close() fails the calls still pending and later ones', async () => {
  const file = join(dir.path, 'big.bin');
  await writeFile(file, Buffer.alloc(32 << 20));
  const h = new WorkerHash(new SharedArrayBuffer(16));
  const p = h.hashFile(file, 32 << 20).then(() => 'finished', (e: Error) => e.message);
  await h.close();
  assert.match(await p, /closed|ended/);
  assert.match(await h.update(0, 1).then(() => 'ok', (e: Error) => e.message), /closed/);
});

test.run();
