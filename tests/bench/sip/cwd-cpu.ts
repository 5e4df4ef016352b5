/**
 * CPU used by the processes working in one directory: how the benchmarks
 * tell whether the load generator (SIPp, which runs with its work dir as
 * cwd, see tests/support/sipp.ts) was itself the limit of a step. Two SIPp
 * runs never share a work dir, and nobody else's process works in ours, so
 * the cwd picks exactly our load generator even with other engineers' SIPp
 * running on the machine.
 *
 *   const s = startCwdCpuSampler(workDir);
 *   await measureLoad({ ..., workDir });
 *   s.stop();   // { cpuPercent, processes }
 *
 * Processes are found by polling /proc (every 200 ms): the CPU a process uses
 * after the last poll before it exits is not counted, so the figure is a
 * slight underestimate.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';

const TICKS_PER_SECOND = 100; // Linux USER_HZ (CLK_TCK) on every architecture we run on

function cpuTicks(pid: string): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return undefined;
  }
}

export interface CwdCpu {
  /** Percent of one core over the sampling window (100 = one core busy). */
  cpuPercent: number;
  /** Distinct processes seen. */
  processes: number;
}

export function startCwdCpuSampler(dir: string, intervalMs = 200): { read(): CwdCpu; stop(): CwdCpu } {
  const want = resolve(dir);
  const started = Date.now();
  const last = new Map<string, number>();
  const first = new Map<string, number>();
  let initial = true;
  const poll = (): void => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let cwd: string;
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        continue;
      }
      if (cwd !== want) continue;
      const t = cpuTicks(pid);
      if (t === undefined) continue;
      // A process there before the window counts from now; one that appears later started in it.
      if (!first.has(pid)) first.set(pid, initial ? t : 0);
      last.set(pid, t);
    }
  };
  poll();
  initial = false;
  const timer = setInterval(poll, intervalMs);
  const read = (): CwdCpu => {
    poll();
    let ticks = 0;
    for (const [pid, t] of last) ticks += t - (first.get(pid) ?? 0);
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    return { cpuPercent: (100 * ticks) / TICKS_PER_SECOND / seconds, processes: last.size };
  };
  return {
    /** Since the start, without stopping. */
    read,
    stop() {
      clearInterval(timer);
      return read();
    },
  };
}
