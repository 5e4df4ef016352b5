/**
 * Writing and reading slot payloads as streams with bounded memory.
 *
 * Raw: a Writable over a file handle (an image file or a block device),
 * written sequentially; its final() fsyncs before the write is reported
 * done, so "installed" in the agent's state file always means "on the
 * medium". Tar: unpacked by GNU tar into an emptied directory, then the
 * file system is synced.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { PgwError } from '../../firmware/src/util/errors.js';
import type { SlotName, SlotPayloadFormat } from './types.js';

function slotError(message: string, cause?: unknown): PgwError {
  return new PgwError('PGW_E_OTA_SLOT', message, cause === undefined ? {} : { cause });
}

/**
 * A Writable onto `path`. `truncate`: for image files, cut the file to the
 * written length at the end (a block device cannot be truncated). Refuses
 * to write past `limit` bytes when given.
 */
export async function openRawWriter(path: string, options: { truncate: boolean; limit?: number | null }): Promise<Writable> {
  let fh: FileHandle;
  try {
    // 'r+' keeps a block device (or a preallocated image) in place; create image files that do not exist yet.
    fh = await open(path, 'r+').catch(async (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' && options.truncate) return open(path, 'w+', 0o644);
      throw e;
    });
  } catch (e) {
    throw slotError(`cannot open ${path} for writing: ${(e as Error).message}`, e);
  }
  let position = 0;
  const limit = options.limit ?? null;
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      if (limit !== null && position + chunk.length > limit) {
        cb(slotError(`the payload does not fit in ${path} (${limit} bytes)`));
        return;
      }
      fh.write(chunk, 0, chunk.length, position).then(
        ({ bytesWritten }) => {
          position += bytesWritten;
          cb();
        },
        (e: Error) => cb(slotError(`write to ${path} failed: ${e.message}`, e)),
      );
    },
    final(cb) {
      (async () => {
        if (options.truncate) await fh.truncate(position);
        await fh.sync();
        await fh.close();
      })().then(
        () => cb(),
        (e: Error) => cb(slotError(`cannot flush ${path}: ${e.message}`, e)),
      );
    },
    destroy(err, cb) {
      fh.close().then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
}

export function openRawReader(path: string, size: number): Readable {
  return createReadStream(path, { start: 0, end: Math.max(0, size - 1), highWaterMark: 1 << 20 });
}

/** Empties `dir` (creating it if needed) without removing it. */
async function emptyDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

function syncFs(dir: string): Promise<void> {
  return new Promise((resolve) => {
    // `sync -f` syncs the file system holding dir (syncfs(2)); a failure only costs durability.
    const child = spawn('sync', ['-f', dir], { stdio: 'ignore' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

/** A Writable that unpacks a tar stream into `dir` (emptied first). */
export async function openTarWriter(dir: string): Promise<Writable> {
  await emptyDirectory(dir);
  const child = spawn('tar', ['-x', '--numeric-owner', '-C', dir, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      done = true;
      resolve(code);
    });
    child.on('error', (e) => {
      stderr += e.message;
      resolve(-1);
    });
  });
  const stdin = child.stdin;
  // tar dying early shows up as EPIPE here and as its exit code in final().
  stdin.on('error', (e) => (stderr += e.message));
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      if (done) return cb(slotError(`tar stopped unpacking into ${dir}: ${stderr.trim()}`));
      if (stdin.write(chunk)) return cb();
      // Wait for room, or for tar to die (then 'drain' never comes).
      const onDrain = (): void => {
        child.off('close', onClose);
        cb();
      };
      const onClose = (): void => {
        stdin.off('drain', onDrain);
        cb(slotError(`tar stopped unpacking into ${dir}: ${stderr.trim()}`));
      };
      stdin.once('drain', onDrain);
      child.once('close', onClose);
    },
    final(cb) {
      stdin.end();
      exited.then(async (code) => {
        if (code !== 0) return cb(slotError(`tar could not unpack into ${dir} (exit ${code}): ${stderr.trim()}`));
        await syncFs(dir);
        cb();
      }, cb);
    },
    destroy(err, cb) {
      child.kill('SIGKILL');
      cb(err);
    },
  });
}

/**
 * Bytes a slot's root device can hold: an image file's size, a block
 * device's from /sys/class/block/<name>/size (512-byte sectors whatever the
 * device's block size); null when unknown.
 */
export async function rawDeviceCapacity(device: string, sysBlockDir = '/sys/class/block'): Promise<number | null> {
  const st = await stat(device).catch(() => undefined);
  if (!st) return null;
  if (st.isFile()) return st.size;
  if (!st.isBlockDevice()) return null;
  try {
    const sectors = Number((await readFile(join(sysBlockDir, basename(device), 'size'), 'utf8')).trim());
    return Number.isFinite(sectors) ? sectors * 512 : null;
  } catch {
    return null;
  }
}

/**
 * The writer for a raw-image slot of a boot-loader backend (grub, rpi-tryboot):
 * refuses other payload formats, the running slot, and an image larger than
 * the slot; never writes past the slot's end.
 */
export async function openRawSlotWriter(o: {
  backend: string;
  slot: SlotName;
  booted: SlotName;
  device: string;
  format: SlotPayloadFormat;
  size: number;
  sysBlockDir?: string;
}): Promise<Writable> {
  if (o.format !== 'raw') throw slotError(`${o.backend} slots take raw images only`);
  if (o.slot === o.booted) throw slotError(`refusing to write slot ${o.slot}: it is the running slot`);
  const cap = await rawDeviceCapacity(o.device, o.sysBlockDir);
  if (cap !== null && o.size > cap) throw slotError(`the image (${o.size} bytes) does not fit slot ${o.slot} (${cap} bytes)`);
  return openRawWriter(o.device, { truncate: false, limit: cap });
}
