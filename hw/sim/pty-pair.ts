/**
 * A pair of linked pseudo-terminals made by socat, the way tests and the
 * development rig put a simulator on the far end of a real serial driver:
 * `socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B`. What is written to A
 * comes out of B and back.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PgwError } from '../../firmware/src/util/errors.js';

export interface PtyPair {
  /** The driver's end (what a board profile would name). */
  device: string;
  /** The simulator's end. */
  peer: string;
  process: ChildProcess;
  close(): Promise<void>;
}

export async function createPtyPair(device: string, peer: string, options: { timeoutMs?: number } = {}): Promise<PtyPair> {
  const child = spawn('socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${peer}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  while (!(existsSync(device) && existsSync(peer))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new PgwError('PGW_E_HW_IO', `socat did not make the pty pair ${device} <-> ${peer}: ${stderr.trim() || 'timed out'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    device,
    peer,
    process: child,
    close: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
