/**
 * Crash-safe replacement of a small binary file (temp file, fsync, rename,
 * fsync of the directory), for boot loader state such as grubenv whose
 * bytes must be exact. Text files use the store's writeFileAtomic.
 */
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeBytesAtomic(path: string, data: Buffer, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const d = await open(dir, 'r').catch(() => undefined);
  try {
    await d?.sync();
  } catch {
    // Some file systems (vfat) refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await d?.close();
  }
}
