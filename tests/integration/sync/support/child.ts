/** Runs sync-child.ts as a separate node process and reads what it says. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnManaged, waitUntil } from '../../../support/proc.js';
import type { ManagedProcess } from '../../../support/proc.js';
import { APPLIER_LOG } from './child-config.js';
import type { ChildConfig } from './child-config.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./sync-child.ts', import.meta.url));

export interface ChildLine {
  child: string;
  [k: string]: unknown;
}

export interface SyncChild {
  proc: ManagedProcess;
  lines(): ChildLine[];
  waitLine(pred: (l: ChildLine) => boolean, what: string, timeoutMs?: number): Promise<ChildLine>;
  kill9(): Promise<void>;
}

export function spawnSyncChild(cfg: ChildConfig): SyncChild {
  const proc = spawnManaged(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: REPO_ROOT,
    env: { ...process.env, PGW_SYNC_CHILD: JSON.stringify(cfg) },
  });
  const lines = (): ChildLine[] =>
    proc.output
      .toString()
      .split('\n')
      .filter((l) => l.startsWith('{"child"'))
      .map((l) => JSON.parse(l) as ChildLine);
  return {
    proc,
    lines,
    waitLine: (pred, what, timeoutMs = 15_000) =>
      waitUntil(
        () => {
          if (proc.hasExited()) throw new Error(`sync child exited while waiting for ${what}:\n${proc.output.toString()}`);
          return lines().find(pred);
        },
        { timeoutMs, intervalMs: 10, what },
      ),
    kill9: async () => {
      await proc.stop({ signal: 'SIGKILL' });
    },
  };
}

/** The applier's log in the data dir: every step and every completed apply, across runs. */
export function applierLog(dataDir: string): Array<{ version: number; reason: string; step?: string; done?: boolean }> {
  let text = '';
  try {
    text = readFileSync(join(dataDir, APPLIER_LOG), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { version: number; reason: string; step?: string; done?: boolean });
}
