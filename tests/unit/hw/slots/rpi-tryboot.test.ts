/**
 * rpi-tryboot against a temp directory laid out like the Pi's: the
 * autoboot partition, the device tree's chosen/bootloader cells, and image
 * files standing in for the root partitions.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { parseAutoboot, serializeAutoboot } from '../../../../hw/slots/autoboot-txt.js';
import { RPI_TRYBOOT_REBOOT_ARG, RpiTrybootBackend } from '../../../../hw/slots/rpi-tryboot.js';
import { tempDir } from '../../ota/support/bundles.js';

function cell(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

async function layout(root: string): Promise<{ be: RpiTrybootBackend; dt: string; boot: string }> {
  const boot = join(root, 'boot', 'autoboot');
  const dt = join(root, 'proc', 'device-tree', 'chosen', 'bootloader');
  await mkdir(boot, { recursive: true });
  await mkdir(dt, { recursive: true });
  await mkdir(join(root, 'dev'), { recursive: true });
  await writeFile(join(boot, 'autoboot.txt'), '[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=2\n');
  await writeFile(join(dt, 'partition'), cell(2));
  await writeFile(join(dt, 'tryboot'), cell(0));
  // Preallocated "partitions".
  await writeFile(join(root, 'dev', 'mmcblk0p5'), Buffer.alloc(512 * 1024));
  await writeFile(join(root, 'dev', 'mmcblk0p6'), Buffer.alloc(512 * 1024));
  const be = new RpiTrybootBackend({
    autobootDir: boot,
    deviceTreeDir: dt,
    slots: { a: { bootPartition: 2, rootDevice: join(root, 'dev', 'mmcblk0p5') }, b: { bootPartition: 3, rootDevice: join(root, 'dev', 'mmcblk0p6') } },
  });
  return { be, dt, boot };
}

test('autoboot.txt parse/serialize, with [tryboot] defaulting to [all] and a 512-byte limit', () => {
  assert.equal(parseAutoboot('# c\n[all]\ntryboot_a_b=1\nboot_partition=2\n'), { bootPartition: 2, trybootPartition: 2 });
  assert.equal(parseAutoboot('[all]\nboot_partition=2\n[tryboot]\nboot_partition=3\n'), { bootPartition: 2, trybootPartition: 3 });
  const text = serializeAutoboot({ bootPartition: 3, trybootPartition: 2 });
  assert.match(text, /\[all\]\ntryboot_a_b=1\nboot_partition=3\n\[tryboot\]\nboot_partition=2\n/);
  assert.ok(Buffer.byteLength(text) <= 512);
  assert.throws(() => parseAutoboot('[tryboot]\nboot_partition=3\n'), /\[all\]/);
  assert.throws(() => parseAutoboot('[all]\nboot_partition=x\n'));
});

test('full cycle: write slot b, arm (tryboot), boot it on trial, commit', async () => {
  const t = await tempDir();
  try {
    const { be, dt, boot } = await layout(t.path);
    assert.equal(await be.status(), { booted: 'a', primary: 'a', armed: null, trialBoot: false });
    assert.is(await be.capacity('b'), 512 * 1024);
    const img = Buffer.alloc(100_000, 9);
    await pipeline(Readable.from([img]), await be.openWriter('b', { format: 'raw', size: img.length }));
    const dev = await readFile(join(t.path, 'dev', 'mmcblk0p6'));
    assert.ok(dev.subarray(0, img.length).equals(img));
    assert.is(dev.length, 512 * 1024, 'a partition is not truncated');
    const trial = await be.arm('b');
    assert.is(trial.rebootArg, RPI_TRYBOOT_REBOOT_ARG);
    assert.is(trial.rebootArg, '0 tryboot');
    assert.equal(parseAutoboot(await readFile(join(boot, 'autoboot.txt'), 'utf8')), { bootPartition: 2, trybootPartition: 3 });
    assert.is((await be.status()).armed, 'b');
    // The boot loader boots partition 3 with the tryboot flag.
    await writeFile(join(dt, 'partition'), cell(3));
    await writeFile(join(dt, 'tryboot'), cell(1));
    assert.equal(await be.status(), { booted: 'b', primary: 'a', armed: 'b', trialBoot: true });
    await be.commit('b');
    assert.equal(parseAutoboot(await readFile(join(boot, 'autoboot.txt'), 'utf8')), { bootPartition: 3, trybootPartition: 3 });
    await writeFile(join(dt, 'tryboot'), cell(0));
    assert.equal(await be.status(), { booted: 'b', primary: 'b', armed: null, trialBoot: false });
  } finally {
    await t.remove();
  }
});

test('disarm restores [tryboot] to the primary; oversize images and the running slot are refused', async () => {
  const t = await tempDir();
  try {
    const { be, boot } = await layout(t.path);
    await be.arm('b');
    await be.disarm();
    assert.equal(parseAutoboot(await readFile(join(boot, 'autoboot.txt'), 'utf8')), { bootPartition: 2, trybootPartition: 2 });
    await be.openWriter('b', { format: 'raw', size: 1 << 20 }).then(
      () => assert.unreachable('oversize accepted'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_SLOT') && /does not fit/.test(e.message)),
    );
    await be.openWriter('a', { format: 'raw', size: 10 }).then(
      () => assert.unreachable('wrote the running slot'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_SLOT')),
    );
  } finally {
    await t.remove();
  }
});

test('a missing tryboot cell (older boot loader) reads as a normal boot', async () => {
  const t = await tempDir();
  try {
    const { be, dt } = await layout(t.path);
    const { rm } = await import('node:fs/promises');
    await rm(join(dt, 'tryboot'));
    assert.is((await be.status()).trialBoot, false);
  } finally {
    await t.remove();
  }
});

test.run();
