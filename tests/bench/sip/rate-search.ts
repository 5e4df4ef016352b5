/**
 * The highest rate a system sustains: the ramp of findMaxRate
 * (tests/bench/support/sipp-load.ts: the rate grows by `factor` until a step
 * is not sustained), then a bisection between the last sustained rate and
 * the first that was not, so the answer is not off by up to a whole ramp
 * factor. Each step is a separate SIPp run at a fixed rate.
 */
import { join } from 'node:path';
import { findMaxRate, type LoadResult } from '../support/sipp-load.js';

export interface SearchOptions<R extends LoadResult> {
  startRate: number;
  maxRate: number;
  factor: number;
  /** Bisection steps after the ramp (each halves the gap). */
  refineSteps: number;
  /** Rates are rounded to a multiple of this. */
  granularity: number;
  workDir: string;
  /** Stop refining when a step could not finish before this time (ms since the epoch). */
  deadline: number;
  /** Rough wall time of one step, for the deadline check. */
  stepMs: number;
  step: (rate: number, workDir: string) => Promise<R>;
  /** Called before every step after the first (e.g. let an overloaded target drain). */
  beforeStep?: (previous: R) => Promise<void>;
}

export interface SearchResult<R extends LoadResult> {
  /** Every step, in the order run. */
  steps: R[];
  /** The sustained step with the highest achieved rate. */
  best: R | undefined;
  /** The lowest rate that was not sustained, if one was found. */
  firstFailing: R | undefined;
}

export async function searchMaxRate<R extends LoadResult>(o: SearchOptions<R>): Promise<SearchResult<R>> {
  const steps: R[] = [];
  const runStep = async (rate: number, dir: string): Promise<R> => {
    const prev = steps[steps.length - 1];
    if (prev && o.beforeStep) await o.beforeStep(prev);
    const r = await o.step(rate, dir);
    steps.push(r);
    return r;
  };
  await findMaxRate({
    startRate: o.startRate,
    maxRate: o.maxRate,
    factor: o.factor,
    workDir: o.workDir,
    step: (rate, dir) => (Date.now() + o.stepMs > o.deadline ? Promise.resolve(notRun(rate)) : runStep(rate, dir)),
  });
  const sustained = (): R[] => steps.filter((s) => s.sustained);
  const failing = (): R[] => steps.filter((s) => !s.sustained);
  const lowestFailing = (): R | undefined => failing().sort((a, b) => a.offeredPerSec - b.offeredPerSec)[0];
  for (let i = 0; i < o.refineSteps; i++) {
    const hi = lowestFailing();
    const lo = sustained()
      .filter((s) => !hi || s.offeredPerSec < hi.offeredPerSec)
      .sort((a, b) => b.offeredPerSec - a.offeredPerSec)[0];
    if (!hi || !lo) break;
    const mid = Math.round((lo.offeredPerSec + hi.offeredPerSec) / 2 / o.granularity) * o.granularity;
    if (mid <= lo.offeredPerSec || mid >= hi.offeredPerSec) break;
    if (Date.now() + o.stepMs > o.deadline) break;
    await runStep(mid, join(o.workDir, `rate-${mid}`));
  }
  const best = sustained().sort((a, b) => b.achievedPerSec - a.achievedPerSec)[0];
  return { steps, best, firstFailing: lowestFailing() };
}

/** findMaxRate wants a result for every rate it asks for; a step skipped for time ends the ramp. */
function notRun<R extends LoadResult>(rate: number): R {
  return { offeredPerSec: rate, achievedPerSec: 0, successful: 0, failed: 0, successRatio: 0, responseTimeMs: NaN, sustained: false } as unknown as R;
}
