/**
 * Resident memory and CPU of a process tree, sampled from /proc while a
 * benchmark runs ("resident memory idle and at load"; Kamailio and the gateway
 * both fork or spawn workers, so a whole tree is measured).
 *
 *   const s = startProcSampler({ rootPid: gw.pid, intervalMs: 250 });
 *   ... load ...
 *   const r = s.stop();   // { rssMb: { max, mean }, cpuPercent, samples }
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

interface StatLine {
  ppid: number;
  /** utime + stime in clock ticks. */
  cpuTicks: number;
}

function readStat(pid: number): StatLine | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** RSS of one process in kB (VmRSS), 0 if it is gone. */
export function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** `rootPid` and all its descendants alive now. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(name));
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

export interface ProcSample {
  atMs: number;
  rssKb: number;
  cpuTicks: number;
  processes: number;
}

export interface ProcSamplerResult {
  samples: ProcSample[];
  rssMb: { max: number; mean: number; last: number };
  /** CPU use over the sampling window, in percent of one core (200 = two cores busy). */
  cpuPercent: number;
}

/** One reading of the tree under `rootPid`. */
export function sampleTree(rootPid: number): ProcSample {
  let rss = 0;
  let ticks = 0;
  const pids = processTree(rootPid);
  for (const pid of pids) {
    rss += rssKb(pid);
    ticks += readStat(pid)?.cpuTicks ?? 0;
  }
  return { atMs: Date.now(), rssKb: rss, cpuTicks: ticks, processes: pids.length };
}

export function startProcSampler(opts: { rootPid: number; intervalMs?: number }): { stop(): ProcSamplerResult } {
  const samples: ProcSample[] = [sampleTree(opts.rootPid)];
  const timer = setInterval(() => samples.push(sampleTree(opts.rootPid)), opts.intervalMs ?? 250);
  return {
    stop() {
      clearInterval(timer);
      samples.push(sampleTree(opts.rootPid));
      const first = samples[0]!;
      const last = samples[samples.length - 1]!;
      const seconds = Math.max(1e-3, (last.atMs - first.atMs) / 1000);
      const rss = samples.map((s) => s.rssKb / 1024);
      return {
        samples,
        rssMb: { max: Math.max(...rss), mean: rss.reduce((a, b) => a + b, 0) / rss.length, last: rss[rss.length - 1]! },
        cpuPercent: (100 * (last.cpuTicks - first.cpuTicks)) / ticksPerSecond() / seconds,
      };
    },
  };
}

/**
 * Scheduler time of a process summed over all its threads (/proc/PID/task/TID/schedstat):
 * ns on a CPU and ns runnable but waiting on a run queue. The process's own
 * /proc/PID/schedstat covers its main thread only, which misses worker threads.
 */
export function processSchedstat(pid: number): { run: number; wait: number } | null {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let run = 0;
  let wait = 0;
  for (const tid of tids) {
    try {
      const [r, w] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
      run += r ?? 0;
      wait += w ?? 0;
    } catch {
      /* the thread ended */
    }
  }
  return { run, wait };
}
