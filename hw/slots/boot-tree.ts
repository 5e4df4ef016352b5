/**
 * The boot-partition tree: what a Raspberry Pi slot's FAT boot partition
 * holds, carried inside the slot's own root file system.
 *
 * A Pi slot is a boot partition (firmware, kernel, initramfs, DTBs,
 * overlays, config.txt, cmdline.txt naming its root) plus a root device.
 * An update writes only the root device, so the boot partition must be
 * rebuilt from the new root, or a new kernel would never be booted (the old
 * kernel would start on a root without its modules). RAUC and Mender solve
 * this the same way: the boot files travel with the root.
 *
 * One description of the file list: image/build.sh puts the finished tree
 * at /usr/lib/pgw/boot in the root file system (firmware from
 * /boot/firmware, the root's kernel as vmlinuz and initrd.img, the board's
 * config.txt and cmdline.txt), and builds both boot partitions of the disk
 * image from that tree; the update agent rebuilds the inactive slot's boot
 * partition from the same tree of the new root. The only per-slot part is
 * the @SLOT@ token in the templates (BOOT_TREE_TEMPLATES), replaced by the
 * slot letter by both.
 *
 * Crash safety: only the inactive slot's boot partition is written, and the
 * boot loader never reads it before `arm`. A power cut mid-copy leaves a
 * half-written partition nobody boots; the agent has not recorded the
 * install as done, so it writes the slot again after the restart.
 */
import { copyFile, lstat, mkdir, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PgwError } from '../../firmware/src/util/errors.js';
import type { SlotName } from './types.js';

/** The tree's place in a root file system (relative to its top). */
export const BOOT_TREE_DIR = 'usr/lib/pgw/boot';
/** Files at the top of the tree in which SLOT_TOKEN is replaced by the slot letter. */
export const BOOT_TREE_TEMPLATES = ['cmdline.txt', 'config.txt'] as const;
export const SLOT_TOKEN = '@SLOT@';

function err(message: string): PgwError {
  return new PgwError('PGW_E_OTA_SLOT', message);
}

/** Paths (relative, '/'-separated) of the tree's regular files and directories. */
async function listTree(dir: string, rel = ''): Promise<{ files: string[]; dirs: string[] }> {
  const out = { files: [] as string[], dirs: [] as string[] };
  const entries = await readdir(join(dir, rel), { withFileTypes: true });
  entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  for (const e of entries) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      out.dirs.push(r);
      const sub = await listTree(dir, r);
      out.files.push(...sub.files);
      out.dirs.push(...sub.dirs);
    } else if (e.isFile()) {
      out.files.push(r);
    } else {
      // A FAT partition has no symlinks or devices; an absolute symlink would
      // also point into the running system, not the new root.
      throw err(`${BOOT_TREE_DIR}/${r} is not a regular file or directory`);
    }
  }
  return out;
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeDurable(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface BootTreeResult {
  /** Relative paths written, sorted. */
  files: string[];
  bytes: number;
}

/**
 * Replaces everything in `bootDir` (a mounted boot partition) with the boot
 * tree of the root file system mounted at `rootDir`, templated for `slot`.
 * Checks the tree before touching the partition: it must exist and its
 * cmdline.txt must carry SLOT_TOKEN (a fixed root= would boot the wrong root).
 */
export async function installBootTree(
  rootDir: string,
  bootDir: string,
  slot: SlotName,
  io: { copyFile?: (src: string, dst: string) => Promise<void> } = {},
): Promise<BootTreeResult> {
  const copy = io.copyFile ?? ((a: string, b: string) => copyFile(a, b));
  const src = join(rootDir, BOOT_TREE_DIR);
  const st = await lstat(src).catch(() => undefined);
  if (!st?.isDirectory()) throw err(`the new root has no ${BOOT_TREE_DIR} (an image built before boot trees cannot update a Pi's boot partition)`);
  const { files, dirs } = await listTree(src);
  const templates = new Map<string, Buffer>();
  for (const t of BOOT_TREE_TEMPLATES) {
    const text = await readFile(join(src, t), 'utf8').catch(() => undefined);
    if (text === undefined) throw err(`${BOOT_TREE_DIR}/${t} is missing from the new root`);
    templates.set(t, Buffer.from(text.split(SLOT_TOKEN).join(slot)));
  }
  if (!(await readFile(join(src, 'cmdline.txt'), 'utf8')).includes(SLOT_TOKEN))
    throw err(`${BOOT_TREE_DIR}/cmdline.txt does not name its slot (${SLOT_TOKEN})`);

  // Old files not in the new set go: clear the partition first, which also
  // leaves the most room on the FAT for the new kernel and initramfs.
  for (const name of await readdir(bootDir)) await rm(join(bootDir, name), { recursive: true, force: true });
  for (const d of dirs) await mkdir(join(bootDir, d), { recursive: true });
  let bytes = 0;
  for (const f of files) {
    const dst = join(bootDir, f);
    const t = templates.get(f);
    if (t) {
      await writeDurable(dst, t);
      bytes += t.length;
    } else {
      // copyFile streams in the kernel (kernel and initramfs are tens of MB).
      await copy(join(src, f), dst);
      await fsyncPath(dst);
      bytes += (await stat(dst)).size;
    }
  }
  // Directory entries are durable once their directories are synced.
  for (const d of [...dirs].reverse()) await fsyncPath(join(bootDir, d));
  await fsyncPath(bootDir);
  return { files, bytes };
}
