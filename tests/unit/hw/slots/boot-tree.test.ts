/**
 * The boot tree (hw/slots/boot-tree.ts) copied from a root file system in
 * a temp directory onto a "boot partition" directory.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { BOOT_TREE_DIR, BOOT_TREE_TEMPLATES, installBootTree } from '../../../../hw/slots/boot-tree.js';
import { tempDir } from '../../ota/support/bundles.js';

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
  return out;
}

async function put(base: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(base, rel)), { recursive: true });
    await writeFile(join(base, rel), content);
  }
}

const TREE = {
  'start4.elf': 'firmware',
  'fixup4.dat': 'fixup',
  'bcm2711-rpi-4-b.dtb': 'dtb 6.1.0-new',
  'overlays/uart3.dtbo': 'overlay',
  'overlays/gpio-fan.dtbo': 'fan',
  vmlinuz: 'kernel 6.1.0-new',
  'initrd.img': 'initramfs 6.1.0-new',
  'config.txt': '# slot @SLOT@\nkernel=vmlinuz\n',
  'cmdline.txt': 'console=tty1 root=PARTLABEL=root-@SLOT@ ro pgw.slot=@SLOT@\n',
};

test('the boot partition ends up exactly the tree, templated for the slot; stale files go', async () => {
  const t = await tempDir();
  try {
    const root = join(t.path, 'root');
    const boot = join(t.path, 'boot');
    await put(join(root, BOOT_TREE_DIR), TREE);
    await put(boot, { vmlinuz: 'kernel 5.10-old', 'overlays/old.dtbo': 'old', 'stale/dir/x': 'x', 'cmdline.txt': 'root=PARTLABEL=root-a' });
    const r = await installBootTree(root, boot, 'b');
    const got = await snapshot(boot);
    const want = new Map(Object.entries(TREE).map(([k, v]) => [k, v.replaceAll('@SLOT@', 'b')]));
    assert.equal(new Map([...got].sort()), new Map([...want].sort()));
    assert.is(got.get('cmdline.txt'), 'console=tty1 root=PARTLABEL=root-b ro pgw.slot=b\n');
    assert.is(got.get('vmlinuz'), 'kernel 6.1.0-new');
    assert.not.ok((await readdir(boot)).includes('stale'), 'stale directories are removed');
    assert.equal(r.files, Object.keys(TREE).sort());
    assert.is(r.bytes, [...want.values()].reduce((n, v) => n + Buffer.byteLength(v), 0));
    // The source tree keeps its templates.
    assert.match(await readFile(join(root, BOOT_TREE_DIR, 'cmdline.txt'), 'utf8'), /@SLOT@/);
  } finally {
    await t.remove();
  }
});

test('templates and place are the ones image/lib/common.sh (make_boot_tree) uses', async () => {
  const build = await readFile(new URL('../../../../image/lib/common.sh', import.meta.url), 'utf8');
  const m = /^BOOT_TREE_TEMPLATES="([^"]*)"/m.exec(build);
  assert.ok(m, 'common.sh names its templates');
  assert.equal(m![1]!.split(' '), [...BOOT_TREE_TEMPLATES]);
  assert.match(build, new RegExp(`tree="\\$rootfs/${BOOT_TREE_DIR}"`));
});

for (const [name, files, pattern] of [
  ['no tree in the new root', null, /no usr\/lib\/pgw\/boot/],
  ['a cmdline.txt that names no slot', { ...TREE, 'cmdline.txt': 'root=PARTLABEL=root-a\n' }, /does not name its slot/],
  ['no config.txt', Object.fromEntries(Object.entries(TREE).filter(([k]) => k !== 'config.txt')), /config\.txt is missing/],
] as const) {
  test(`refused before the partition is touched: ${name}`, async () => {
    const t = await tempDir();
    try {
      const root = join(t.path, 'root');
      const boot = join(t.path, 'boot');
      await mkdir(root, { recursive: true });
      if (files) await put(join(root, BOOT_TREE_DIR), files);
      await put(boot, { vmlinuz: 'old' });
      const e = await installBootTree(root, boot, 'a').then(
        () => undefined,
        (x: unknown) => x,
      );
      assert.ok(isPgwError(e, 'PGW_E_OTA_SLOT'), String(e));
      assert.match((e as Error).message, pattern);
      assert.equal(await snapshot(boot), new Map([['vmlinuz', 'old']]));
    } finally {
      await t.remove();
    }
  });
}

test('a symlink in the tree is refused (FAT has none; it would point into the running system)', async () => {
  const t = await tempDir();
  try {
    const root = join(t.path, 'root');
    await put(join(root, BOOT_TREE_DIR), TREE);
    await symlink('/boot/vmlinuz', join(root, BOOT_TREE_DIR, 'vmlinuz.link'));
    const boot = join(t.path, 'boot');
    await mkdir(boot);
    await installBootTree(root, boot, 'a').then(
      () => assert.unreachable('accepted a symlink'),
      (e: Error) => assert.match(e.message, /vmlinuz\.link is not a regular file/),
    );
    assert.is((await stat(boot)).isDirectory(), true);
  } finally {
    await t.remove();
  }
});

test.run();
