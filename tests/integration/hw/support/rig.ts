/**
 * Pseudo-terminal rigs for the hardware integration tests: socat makes a
 * pty pair per device, the simulator opens one end with the real serial
 * driver, and the code under test opens the other end through the board
 * profile, exactly as on a box. Everything is torn down in close().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPtyPair } from '../../../../hw/sim/pty-pair.js';
import type { PtyPair } from '../../../../hw/sim/pty-pair.js';
import { openSerialLineLink } from '../../../../hw/serial/serial-line-link.js';
import type { LineEnding, LineLink } from '../../../../hw/serial/line-link.js';

export interface PtyRig {
  dir: string;
  /** A pty pair named `name`; returns the driver-side path and the simulator's open link. */
  device(name: string, simLineEnding: LineEnding): Promise<{ path: string; simLink: LineLink }>;
  close(): Promise<void>;
}

export function ptyRig(): PtyRig {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-hw-'));
  const pairs: PtyPair[] = [];
  const links: LineLink[] = [];
  return {
    dir,
    async device(name, simLineEnding) {
      const pair = await createPtyPair(join(dir, name), join(dir, `${name}.sim`));
      pairs.push(pair);
      const simLink = await openSerialLineLink({ path: pair.peer, baudRate: 115200, lineEnding: simLineEnding });
      links.push(simLink);
      return { path: pair.device, simLink };
    },
    async close() {
      for (const l of links) await l.close().catch(() => undefined);
      for (const p of pairs) await p.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}
