/**
 * SIPp as a load generator for `make bench`: run a scenario at a rate and
 * report what the target actually sustained, and find the highest rate it
 * sustains. The registrar comparison runs the same load against our gateway
 * and against Kamailio (tests/support/kamailio.ts) and reports the ratio.
 *
 *   const users = makeUsers(5000);
 *   const k = await startKamailio({ listenIp: '127.0.0.1', port, users });
 *   const r = await measureRegisterRate({ target: `127.0.0.1:${port}`, domain: '127.0.0.1', users, rate: 2000, seconds: 10, workDir });
 *   r.achievedPerSec; r.successRatio;
 *
 * Method notes (for docs/BENCHMARKS.md):
 * - One SIPp "call" of register-auth.xml is one full authenticated
 *   registration (REGISTER, 401, REGISTER with credentials, 200), so calls/s
 *   is registrations/s.
 * - achievedPerSec = successful calls / SIPp's elapsed time. A run "sustains"
 *   a rate when it completes at >= 99.9 % success and within 95 % of the
 *   offered rate (SIPp cannot offer more than it can generate either: the
 *   report says when SIPp itself was the limit, i.e. its CPU was saturated).
 * - SIPp's watchdog aborts a run whose scheduler falls behind; on a shared
 *   2-core box that is noise, so its trigger limits are raised.
 * - `-l` bounds the calls in flight so a slow target cannot drown itself in
 *   retransmissions (default: 2 s worth of calls).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { runSipp, sippScenario } from '../../support/sipp.js';
import type { SippOptions, SippResult } from '../../support/sipp.js';
import { writeInjectionFile } from '../../support/users.js';
import type { SipUser } from '../../support/users.js';

export interface LoadOptions {
  scenario: string;
  /** host:port of the system under test. */
  target: string;
  netns?: string;
  localIp?: string;
  localPort?: number;
  injectionFile?: string;
  /** Offered calls per second. */
  rate: number;
  /** Length of the run at that rate (calls = rate * seconds). */
  seconds: number;
  /** Calls in flight at most (default rate * 2). */
  limit?: number;
  workDir: string;
  extraArgs?: string[];
}

export interface LoadResult {
  offeredPerSec: number;
  achievedPerSec: number;
  successful: number;
  failed: number;
  successRatio: number;
  /** Average of SIPp's response time 1 in ms (scenario-defined; register-auth: first REGISTER to 200). */
  responseTimeMs: number;
  /** True when the run met the rate at >= 99.9 % success (see module comment). */
  sustained: boolean;
  sipp: SippResult;
}

const WATCHDOG_ARGS = ['-watchdog_major_maxtriggers', '1000', '-watchdog_minor_maxtriggers', '100000'];

/** Runs one fixed-rate load and measures it. */
export async function measureLoad(o: LoadOptions): Promise<LoadResult> {
  const calls = Math.max(1, Math.round(o.rate * o.seconds));
  mkdirSync(o.workDir, { recursive: true });
  const opts: SippOptions = {
    scenario: o.scenario,
    remote: o.target,
    netns: o.netns,
    localIp: o.localIp ?? '127.0.0.1',
    localPort: o.localPort,
    injectionFile: o.injectionFile,
    calls,
    rate: o.rate,
    limit: o.limit ?? Math.max(10, Math.ceil(o.rate * 2)),
    timeoutMs: Math.ceil(o.seconds * 1000 * 3 + 15_000),
    statsPeriodSec: 1,
    workDir: o.workDir,
    extraArgs: [...WATCHDOG_ARGS, ...(o.extraArgs ?? [])],
  };
  const sipp = await runSipp(opts);
  const successful = sipp.stats?.successful ?? 0;
  const failed = sipp.stats?.failed ?? 0;
  const elapsed = sipp.stats?.elapsedSec || o.seconds;
  const achievedPerSec = successful / elapsed;
  const successRatio = successful + failed === 0 ? 0 : successful / (successful + failed);
  return {
    offeredPerSec: o.rate,
    achievedPerSec,
    successful,
    failed,
    successRatio,
    responseTimeMs: sipp.stats?.responseTimeMs['1'] ?? NaN,
    sustained: successRatio >= 0.999 && achievedPerSec >= 0.95 * o.rate,
    sipp,
  };
}

export interface RegisterLoadOptions extends Omit<LoadOptions, 'scenario' | 'injectionFile'> {
  users: readonly SipUser[];
  /** The registrar's domain as phones would use it (host[:port]). */
  domain: string;
}

/** Authenticated REGISTERs per second with register-auth.xml, users taken in turn from `users`. */
export function measureRegisterRate(o: RegisterLoadOptions): Promise<LoadResult> {
  mkdirSync(o.workDir, { recursive: true });
  const injectionFile = writeInjectionFile(
    join(o.workDir, 'users.csv'),
    o.users.map((u) => ({ ...u, domain: o.domain })),
  );
  return measureLoad({ ...o, scenario: sippScenario('register-auth.xml'), injectionFile });
}

export interface RampOptions {
  startRate: number;
  maxRate: number;
  /** Each step multiplies the rate by this (default 1.5). */
  factor?: number;
  /** Runs one step at `rate` into its own work dir. */
  step: (rate: number, workDir: string) => Promise<LoadResult>;
  workDir: string;
}

/**
 * Raises the rate step by step until a step is not sustained (or maxRate),
 * and returns every step plus the best sustained one.
 */
export async function findMaxRate(o: RampOptions): Promise<{ steps: LoadResult[]; best: LoadResult | undefined }> {
  const steps: LoadResult[] = [];
  let best: LoadResult | undefined;
  for (let rate = o.startRate; rate <= o.maxRate; rate = Math.ceil(rate * (o.factor ?? 1.5))) {
    const r = await o.step(rate, join(o.workDir, `rate-${rate}`));
    steps.push(r);
    if (!r.sustained) break;
    if (!best || r.achievedPerSec > best.achievedPerSec) best = r;
  }
  return { steps, best };
}
