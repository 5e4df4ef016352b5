/**
 * Crash-safe file replacement: write a temporary file in the same
 * directory, fsync it, rename it over the target, fsync the directory.
 * rename(2) is atomic within a file system, so a reader (or the next boot
 * after a power cut) sees either the old file or the new one, never a torn
 * one; the two fsyncs make the new content and the new directory entry
 * durable before the write is reported done (ext4 with delayed allocation
 * can otherwise leave a zero-length file after a crash).
 *
 * lowdb's own TextFile (steno) does temp + rename but no fsync, so the
 * store uses this adapter instead.
 */
import { open, readFile, rename, rm, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';

let tempSeq = 0;

function tempPrefix(path: string): string {
  return `.${basename(path)}.`;
}

/**
 * Writes `data` to `path` atomically and durably: temp file, fsync, rename,
 * fsync of the directory. Text is written as UTF-8; a Buffer byte for byte
 * (boot loader state such as grubenv). Files holding secrets get mode 0600
 * by default.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${tempPrefix(path)}${process.pid}.${++tempSeq}.tmp`);
  const fh = await open(tmp, 'w', options.mode ?? 0o600);
  try {
    try {
      await (typeof data === 'string' ? fh.writeFile(data, 'utf8') : fh.writeFile(data));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDirectory(dir);
}

/** fsync a directory so a rename in it is durable; a no-op where the file system refuses it. */
export async function syncDirectory(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory (EINVAL, EISDIR); the
    // rename is still atomic there, only its durability is up to the FS.
  } finally {
    await fh?.close();
  }
}

/**
 * Removes temporary files a crash left behind next to `path`; they are
 * never the real data (the rename had not happened). Returns their names.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const prefix = tempPrefix(path);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return [];
  }
  const stale = names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
  await Promise.all(stale.map((n) => rm(join(dirname(path), n), { force: true })));
  return stale;
}

/** The file's text, or null when it does not exist. Other errors are thrown. */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * A lowdb adapter over writeFileAtomic. Writes are queued so two updates
 * in flight cannot interleave, and flush() waits for the last one.
 */
export class AtomicJsonFile<T> implements Adapter<T> {
  readonly path: string;
  private readonly mode: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(path: string, options: { mode?: number } = {}) {
    this.path = path;
    this.mode = options.mode ?? 0o600;
  }

  async read(): Promise<T | null> {
    const text = await readTextIfExists(this.path);
    return text === null ? null : (JSON.parse(text) as T);
  }

  write(data: T): Promise<void> {
    // Serialise now, so later changes to `data` do not leak into this write.
    const text = `${JSON.stringify(data, null, 2)}\n`;
    const next = this.queue.then(() => writeFileAtomic(this.path, text, { mode: this.mode }));
    // A failed write must not block the ones after it; its caller gets the error.
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves when every write queued so far has finished. */
  flush(): Promise<void> {
    return this.queue;
  }
}
