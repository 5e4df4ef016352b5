/**
 * Mounting a slot's file systems for the update agent (the Pi's boot
 * partition rebuild, boot-tree.ts), behind a port so tests use directories.
 * The real one runs mount(8)/umount(8): the agent runs as root.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PgwError } from '../../firmware/src/util/errors.js';

const run = promisify(execFile);

export interface MountRequest {
  device: string;
  /** mount -t; undefined lets mount(8) probe. */
  fsType?: string;
  readOnly: boolean;
}

export interface Mounted {
  /** Where the file system is reachable until unmount(). */
  readonly path: string;
  /** Unmounts (which flushes a read-write mount). */
  unmount(): Promise<void>;
}

export interface Mounter {
  mount(request: MountRequest): Promise<Mounted>;
}

/** mount(8) on a fresh directory under `runDir`, removed again on unmount. */
export function linuxMounter(options: { runDir?: string } = {}): Mounter {
  const runDir = options.runDir ?? '/run/pgw-ota';
  return {
    async mount(r: MountRequest): Promise<Mounted> {
      await mkdir(runDir, { recursive: true, mode: 0o700 });
      const path = await mkdtemp(join(runDir, 'mnt-'));
      // nodev/nosuid/noexec: nothing on the new slot runs before its boot.
      const opts = [r.readOnly ? 'ro' : 'rw', 'nodev', 'nosuid', 'noexec'];
      const args = [...(r.fsType ? ['-t', r.fsType] : []), '-o', opts.join(','), r.device, path];
      try {
        await run('mount', args);
      } catch (e) {
        await rmdir(path).catch(() => undefined);
        throw new PgwError('PGW_E_OTA_SLOT', `mount ${r.device}: ${(e as Error).message.trim()}`);
      }
      return {
        path,
        async unmount(): Promise<void> {
          try {
            await run('umount', [path]);
          } catch (e) {
            throw new PgwError('PGW_E_OTA_SLOT', `umount ${path}: ${(e as Error).message.trim()}`);
          }
          await rmdir(path).catch(() => undefined);
        },
      };
    },
  };
}
