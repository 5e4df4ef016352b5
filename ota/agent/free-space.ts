/** Free space from statfs(2): blocks available to unprivileged users (not the root reserve). */
import { statfs } from 'node:fs/promises';

export async function statfsFreeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}
