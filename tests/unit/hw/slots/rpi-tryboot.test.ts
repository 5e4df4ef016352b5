/**
 * rpi-tryboot against a temp directory laid out like the Pi's: the
 * autoboot partition, the device tree's chosen/bootloader cells, and image
 * files standing in for the root partitions.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { parseAutoboot, serializeAutoboot } from '../../../../hw/slots/autoboot-txt.js';
import { BOOT_TREE_DIR } from '../../../../hw/slots/boot-tree.js';
import type { MountRequest, Mounter } from '../../../../hw/slots/mounter.js';
import { RPI_TRYBOOT_REBOOT_ARG, RpiTrybootBackend } from '../../../../hw/slots/rpi-tryboot.js';
import type { RpiTrybootOptions } from '../../../../hw/slots/rpi-tryboot.js';
import { tempDir } from '../../ota/support/bundles.js';

function cell(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

async function layout(root: string, extra: Partial<RpiTrybootOptions> = {}): Promise<{ be: RpiTrybootBackend; dt: string; boot: string }> {
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
    ...extra,
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

// ------------------------------------------------------------ the boot partition from the new root

/** Every regular file under `dir`, relative path → content. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), await readFile(p, 'utf8'));
    }
  };
  await walk(dir);
  return new Map([...out].sort());
}

async function put(base: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(base, rel)), { recursive: true });
    await writeFile(join(base, rel), content);
  }
}

function bootFiles(kernel: string, slotToken: string): Record<string, string> {
  return {
    'start4.elf': 'firmware',
    'bcm2711-rpi-4-b.dtb': `dtb ${kernel}`,
    'overlays/uart3.dtbo': `uart3 ${kernel}`,
    vmlinuz: `kernel ${kernel}`,
    'initrd.img': `initramfs ${kernel}`,
    'config.txt': `# slot ${slotToken}\nkernel=vmlinuz\ninitramfs initrd.img followkernel\n`,
    'cmdline.txt': `console=tty1 root=PARTLABEL=root-${slotToken} ro rootwait pgw.slot=${slotToken} panic=10\n`,
  };
}

/** Devices are directories: the root devices hold root file systems, the boot devices the FAT contents. */
class FakeMounter implements Mounter {
  readonly log: string[] = [];
  mounted = 0;
  constructor(private readonly dirs: Map<string, string>) {}
  async mount(r: MountRequest) {
    const path = this.dirs.get(r.device);
    if (!path) throw new Error(`no such device ${r.device}`);
    this.log.push(`mount ${r.fsType ?? '?'} ${r.readOnly ? 'ro' : 'rw'} ${relative(dirname(path), path)}`);
    this.mounted += 1;
    return {
      path,
      unmount: async () => {
        this.log.push(`umount ${relative(dirname(path), path)}`);
        this.mounted -= 1;
      },
    };
  }
}

async function piWithBoots(t: string, extra: Partial<RpiTrybootOptions> = {}) {
  const dirs = new Map<string, string>();
  const d = (name: string) => join(t, 'fs', name);
  // Slot a runs kernel 6.1.0-10; slot b holds an old install; the new root for b has 6.1.0-21.
  await put(d('boot-a'), bootFiles('6.1.0-10', 'a'));
  await put(d('boot-b'), { ...bootFiles('6.1.0-10', 'b'), 'overlays/gone.dtbo': 'dropped in the new kernel' });
  await put(join(d('root-b'), BOOT_TREE_DIR), bootFiles('6.1.0-21', '@SLOT@'));
  await put(d('root-b'), { 'usr/lib/modules/6.1.0-21/modules.dep': '' });
  await put(join(d('root-a'), BOOT_TREE_DIR), bootFiles('6.1.0-10', '@SLOT@'));
  const mounter = new FakeMounter(dirs);
  const { be, boot } = await layout(t, { mounter, ...extra });
  dirs.set(join(t, 'dev', 'mmcblk0p5'), d('root-a'));
  dirs.set(join(t, 'dev', 'mmcblk0p6'), d('root-b'));
  dirs.set('/dev/disk/by-partlabel/boot-a', d('boot-a')); // the default boot device names
  dirs.set('/dev/disk/by-partlabel/boot-b', d('boot-b'));
  return { be, boot, mounter, d };
}

test('completeInstall: the inactive slot boot partition becomes the new root boot tree (new kernel, cmdline naming its root); the active one is untouched', async () => {
  const t = await tempDir();
  try {
    const { be, boot, mounter, d } = await piWithBoots(t.path);
    const bootA = await snapshot(d('boot-a'));
    const rootB = await snapshot(d('root-b'));
    await be.completeInstall('b');
    const got = await snapshot(d('boot-b'));
    assert.equal(got, new Map(Object.entries(bootFiles('6.1.0-21', 'b')).sort()));
    assert.is(got.get('vmlinuz'), 'kernel 6.1.0-21', 'the kernel version change is carried over');
    assert.is(got.get('cmdline.txt'), 'console=tty1 root=PARTLABEL=root-b ro rootwait pgw.slot=b panic=10\n');
    assert.not.ok(got.has('overlays/gone.dtbo'), 'old files not in the new set are removed');
    assert.equal(await snapshot(d('boot-a')), bootA, 'the running slot boot partition is untouched');
    assert.equal(await snapshot(d('root-b')), rootB, 'the new root is only read');
    assert.equal(mounter.log, ['mount ext4 ro root-b', 'mount vfat rw boot-b', 'umount boot-b', 'umount root-b']);
    assert.is(mounter.mounted, 0);
    // Not armed by completeInstall: arm is its own step.
    assert.is((await be.status()).armed, null);
    await be.arm('b');
    assert.equal(parseAutoboot(await readFile(join(boot, 'autoboot.txt'), 'utf8')), { bootPartition: 2, trybootPartition: 3 });
  } finally {
    await t.remove();
  }
});

test('completeInstall refuses the running slot and touches nothing', async () => {
  const t = await tempDir();
  try {
    const { be, mounter, d } = await piWithBoots(t.path);
    const before = await snapshot(d('boot-a'));
    await be.completeInstall('a').then(
      () => assert.unreachable('rewrote the running slot'),
      (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_SLOT') && /running slot a/.test(e.message), String(e)),
    );
    assert.equal(mounter.log, []);
    assert.equal(await snapshot(d('boot-a')), before);
  } finally {
    await t.remove();
  }
});

test('a failure mid-copy is reported, both file systems are unmounted and the slot is not armed', async () => {
  const t = await tempDir();
  try {
    let copied = 0;
    const { be, mounter, boot } = await piWithBoots(t.path, {
      bootCopyFile: async (src, dst) => {
        if (++copied === 3) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        await copyFile(src, dst);
      },
    });
    const autoboot = await readFile(join(boot, 'autoboot.txt'), 'utf8');
    await be.completeInstall('b').then(
      () => assert.unreachable('a failed copy passed'),
      (e: unknown) => {
        assert.ok(isPgwError(e, 'PGW_E_OTA_SLOT'), String(e));
        assert.match((e as Error).message, /slot b: cannot rebuild its boot partition: ENOSPC/);
      },
    );
    assert.is(copied, 3, 'it failed part way');
    assert.is(mounter.mounted, 0);
    assert.equal(mounter.log.slice(-2), ['umount boot-b', 'umount root-b']);
    assert.is(await readFile(join(boot, 'autoboot.txt'), 'utf8'), autoboot, 'autoboot.txt untouched');
    assert.is((await be.status()).armed, null);
  } finally {
    await t.remove();
  }
});

test('a boot partition that will not mount still unmounts the root; an explicit bootDevice is used', async () => {
  const t = await tempDir();
  try {
    const { be, mounter } = await piWithBoots(t.path);
    const be2 = new RpiTrybootBackend({
      ...(be as unknown as { options: RpiTrybootOptions }).options,
      slots: {
        a: { bootPartition: 2, rootDevice: join(t.path, 'dev', 'mmcblk0p5') },
        b: { bootPartition: 3, rootDevice: join(t.path, 'dev', 'mmcblk0p6'), bootDevice: '/dev/mmcblk0p3' },
      },
    });
    await be2.completeInstall('b').then(
      () => assert.unreachable('mounted a missing device'),
      (e: Error) => assert.match(e.message, /no such device \/dev\/mmcblk0p3/),
    );
    assert.equal(mounter.log, ['mount ext4 ro root-b', 'umount root-b']);
  } finally {
    await t.remove();
  }
});

test.run();
