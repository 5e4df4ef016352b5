/**
 * One load step with the instruments every SIP benchmark wants around it:
 * the system under test's CPU and resident memory (/proc, its whole process
 * tree) and the load generator's CPU (SIPp, found by its work dir), plus
 * SIPp's retransmission count (a target that answers late makes SIPp
 * retransmit: the first sign of overload, before any call fails).
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { processSchedstat, processTree, startProcSampler } from '../support/proc-sampler.js';
import type { LoadResult } from '../support/sipp-load.js';
import { fmt } from '../bench-api.js';
import { startCwdCpuSampler } from './cwd-cpu.js';
import { udpCounters } from './bench-gateway.js';

export interface MeasuredStep extends LoadResult {
  /**
   * CPU of the system under test while the load was offered (the step's first `loadSeconds`;
   * the tail, where an overloaded run waits for its last calls, would dilute it), % of one core.
   */
  targetCpuPercent: number;
  /** Resident memory of the system under test, highest sample of the whole step. */
  targetRssMaxMb: number;
  /** CPU of SIPp over the same window, % of one core (SIPp's main loop is one thread). */
  sippCpuPercent: number;
  retransmissions: number;
  /** Wall time of the whole step. */
  seconds: number;
  /**
   * The main threads of the target's processes (the gateway's event loop; Kamailio's workers),
   * over the same window: % of the wall time they ran, and % they were runnable but waiting for
   * a CPU (/proc/PID/schedstat), summed over the processes (100 = one core's worth). A high
   * wait means the machine, busy with other work, not the target, was the limit.
   */
  mainThreads: { runPercent: number; waitPercent: number };
  /** 1-minute load average when the step started. */
  loadAverage: number;
  /**
   * Datagrams the kernel dropped in the namespace because a socket's receive buffer was full
   * (/proc/net/snmp Udp RcvbufErrors), whole step: the target's or SIPp's, the namespace holds nothing else.
   */
  udpRcvbufErrors: number;
}

/** Scheduler time of each process, all threads: ns on a CPU, ns runnable and waiting on a run queue. */
function schedstats(pids: number[]): Map<number, { run: number; wait: number }> {
  const out = new Map<number, { run: number; wait: number }>();
  for (const pid of pids) {
    const s = processSchedstat(pid);
    if (s) out.set(pid, s);
  }
  return out;
}

export async function measuredStep(o: {
  targetPid: number;
  netns: string;
  workDir: string;
  /** How long the load is offered (SIPp's -m / -r): the window of the CPU figures. */
  loadSeconds: number;
  run: () => Promise<LoadResult>;
}): Promise<MeasuredStep> {
  mkdirSync(o.workDir, { recursive: true });
  const udp0 = await udpCounters(o.netns);
  const loadAverage = loadavg()[0]!;
  const pids = processTree(o.targetPid);
  const started = Date.now();
  const target = startProcSampler({ rootPid: o.targetPid, intervalMs: 250 });
  const sipp = startCwdCpuSampler(o.workDir);
  const sched0 = schedstats(pids);
  let window: { sched: Map<number, { run: number; wait: number }>; sippCpu: number; atMs: number } | undefined;
  const windowTimer = setTimeout(() => {
    window = { sched: schedstats(pids), sippCpu: sipp.read().cpuPercent, atMs: Date.now() };
  }, o.loadSeconds * 1000);
  const r = await o.run();
  clearTimeout(windowTimer);
  window ??= { sched: schedstats(pids), sippCpu: sipp.read().cpuPercent, atMs: Date.now() };
  const udp1 = await udpCounters(o.netns);
  const t = target.stop();
  sipp.stop();
  const inWindow = t.samples.filter((x) => x.atMs <= window!.atMs + 125);
  const first = t.samples[0]!;
  const last = inWindow[inWindow.length - 1] ?? first;
  const windowSeconds = Math.max(0.001, (last.atMs - first.atMs) / 1000);
  return {
    ...r,
    // /proc/PID/stat counts in USER_HZ ticks, 100 per second on Linux.
    targetCpuPercent: (100 * (last.cpuTicks - first.cpuTicks)) / 100 / windowSeconds,
    targetRssMaxMb: t.rssMb.max,
    sippCpuPercent: window.sippCpu,
    retransmissions: Number(r.sipp?.stats?.raw['Retransmissions(C)'] ?? NaN),
    seconds: (Date.now() - started) / 1000,
    udpRcvbufErrors: (udp1.RcvbufErrors ?? NaN) - (udp0.RcvbufErrors ?? NaN),
    mainThreads: delta(sched0, window.sched, (window.atMs - started) * 1e6),
    loadAverage,
  };
}

function delta(a: Map<number, { run: number; wait: number }>, b: Map<number, { run: number; wait: number }>, wallNs: number): { runPercent: number; waitPercent: number } {
  let run = 0;
  let wait = 0;
  for (const [pid, x] of b) {
    const y = a.get(pid);
    if (!y) continue;
    run += x.run - y.run;
    wait += x.wait - y.wait;
  }
  return b.size === 0 ? { runPercent: NaN, waitPercent: NaN } : { runPercent: (100 * run) / wallNs, waitPercent: (100 * wait) / wallNs };
}

/** The columns and row of a step for a BenchTable. */
export const STEP_COLUMNS = [
  'offered /s', 'achieved /s', 'ok', 'failed', 'mean response ms', 'SIPp retransmissions',
  'target CPU %', 'target waiting for a CPU %', 'SIPp CPU %', 'UDP receive-buffer drops', 'target RSS max MB', 'load average', 'sustained',
];

export function stepRow(s: MeasuredStep): Array<string | number> {
  return [
    s.offeredPerSec,
    fmt(s.achievedPerSec, 0),
    s.successful,
    s.failed,
    fmt(s.responseTimeMs, 1),
    Number.isFinite(s.retransmissions) ? s.retransmissions : '-',
    fmt(s.targetCpuPercent, 0),
    fmt(s.mainThreads.waitPercent, 0),
    fmt(s.sippCpuPercent, 0),
    fmt(s.udpRcvbufErrors, 0),
    fmt(s.targetRssMaxMb, 0),
    fmt(s.loadAverage, 1),
    s.sustained ? 'yes' : 'no',
  ];
}
