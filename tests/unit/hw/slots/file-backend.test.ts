import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawnSync } from 'node:child_process';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { FileSlotBackend, initFileSlots, readBootEnv, simulateBoot } from '../../../../hw/slots/file-backend.js';
import { createSlotBackend } from '../../../../hw/slots/index.js';
import { tempDir } from '../../ota/support/bundles.js';

test('image layout: write the inactive slot, read it back, refuse the running one', async () => {
  const t = await tempDir();
  try {
    await initFileSlots(t.path, { layout: 'image' });
    const be = new FileSlotBackend({ root: t.path, layout: 'image', capacity: 1 << 20 });
    assert.equal(await be.status(), { booted: 'a', primary: 'a', armed: null, trialBoot: false });
    const data = Buffer.alloc(300_000, 7);
    await pipeline(Readable.from([data]), await be.openWriter('b', { format: 'raw', size: data.length }));
    assert.ok((await readFile(be.slotPath('b'))).equals(data));
    const back = await be.openReader('b', data.length);
    const chunks: Buffer[] = [];
    for await (const c of back! as AsyncIterable<Buffer>) chunks.push(c);
    assert.ok(Buffer.concat(chunks).equals(data));
    await be.openWriter('a', { format: 'raw', size: 10 }).then(
      () => assert.unreachable('wrote the running slot'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_SLOT')),
    );
    await be.openWriter('b', { format: 'tar', size: 10 }).then(
      () => assert.unreachable('tar into an image slot'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_SLOT')),
    );
    // Capacity is enforced while writing.
    const w = await be.openWriter('b', { format: 'raw', size: 2 << 20 });
    await pipeline(Readable.from([Buffer.alloc(2 << 20)]), w).then(
      () => assert.unreachable('overfilled the slot'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_SLOT')),
    );
  } finally {
    await t.remove();
  }
});

test('the simulated boot loader: armed slot once, then back to primary unless committed', async () => {
  const t = await tempDir();
  try {
    const first = await initFileSlots(t.path, { layout: 'image' });
    const be = new FileSlotBackend({ root: t.path, layout: 'image' });
    await be.arm('b');
    assert.is((await be.status()).armed, 'b');
    const trial = await simulateBoot(t.path);
    assert.is(trial.slot, 'b');
    assert.ok(trial.trialBoot);
    assert.is.not(trial.bootId, first.bootId);
    assert.equal(await be.status(), { booted: 'b', primary: 'a', armed: null, trialBoot: true });
    // Not committed: a power cut brings back a.
    const cut = await simulateBoot(t.path);
    assert.is(cut.slot, 'a');
    assert.not.ok(cut.trialBoot);
    // Arm again, commit on the trial boot, then every boot is b.
    await be.arm('b');
    await simulateBoot(t.path);
    await be.commit('b');
    assert.equal(await readBootEnv(t.path), { primary: 'b', armed: null, tries: 0 });
    assert.is((await simulateBoot(t.path)).slot, 'b');
    assert.not.ok((await be.status()).trialBoot);
  } finally {
    await t.remove();
  }
});

test('tries: with 2 tries the boot loader boots the armed slot twice before falling back; disarm stops it', async () => {
  const t = await tempDir();
  try {
    await initFileSlots(t.path, { layout: 'image' });
    const be = new FileSlotBackend({ root: t.path, layout: 'image', tries: 2 });
    await be.arm('b');
    assert.is((await simulateBoot(t.path)).slot, 'b');
    assert.is((await simulateBoot(t.path)).slot, 'b');
    assert.is((await simulateBoot(t.path)).slot, 'a');
    await be.arm('b');
    await be.disarm();
    assert.is((await simulateBoot(t.path)).slot, 'a');
  } finally {
    await t.remove();
  }
});

test('dir layout: a tar payload is unpacked into an emptied slot directory', async () => {
  const t = await tempDir();
  try {
    await initFileSlots(t.path, { layout: 'dir' });
    const be = new FileSlotBackend({ root: t.path, layout: 'dir' });
    const tree = join(t.path, 'tree');
    await mkdir(join(tree, 'etc'), { recursive: true });
    await writeFile(join(tree, 'etc', 'pgw-version'), '2.0.0\n');
    const tarball = join(t.path, 'tree.tar');
    assert.is(spawnSync('tar', ['-C', tree, '-cf', tarball, '.']).status, 0);
    await writeFile(join(be.slotPath('b'), 'stale-file'), 'old');
    await pipeline(createReadStream(tarball), await be.openWriter('b', { format: 'tar', size: 0 }));
    assert.is(await readFile(join(be.slotPath('b'), 'etc', 'pgw-version'), 'utf8'), '2.0.0\n');
    await readFile(join(be.slotPath('b'), 'stale-file')).then(
      () => assert.unreachable('the old slot content survived'),
      () => undefined,
    );
    assert.is(await be.openReader('b', 10), undefined);
    // Garbage is not a tarball: the write fails.
    await pipeline(Readable.from([Buffer.alloc(10_000, 0x41)]), await be.openWriter('b', { format: 'tar', size: 10_000 })).then(
      () => assert.unreachable('garbage unpacked'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_SLOT'), String(e)),
    );
  } finally {
    await t.remove();
  }
});

test('createSlotBackend picks the backend from its config', () => {
  assert.is(createSlotBackend({ kind: 'file', root: '/x', layout: 'image' }).kind, 'file');
  assert.is(createSlotBackend({ kind: 'grub', slots: { a: { rootDevice: '/dev/sda2' }, b: { rootDevice: '/dev/sda3' } }, editenv: null }).kind, 'grub');
  const rpi = createSlotBackend({
    kind: 'rpi-tryboot',
    autobootDir: '/boot/autoboot',
    slots: { a: { bootPartition: 2, rootDevice: '/dev/mmcblk0p5' }, b: { bootPartition: 3, rootDevice: '/dev/mmcblk0p6' } },
  });
  assert.is(rpi.kind, 'rpi-tryboot');
  assert.equal(rpi.formats, ['raw']);
  assert.equal(createSlotBackend({ kind: 'file', root: '/x', layout: 'dir' }).formats, ['tar']);
});

test.run();
