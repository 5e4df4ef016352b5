/**
 * Runs a promise that mixes real I/O with waits on a FakeClock: lets real
 * I/O progress for a moment, then moves the fake clock, until it settles.
 */
import type { FakeClock } from '../../../../firmware/src/util/clock.js';

export async function drive<T>(clock: FakeClock, p: Promise<T>, options: { stepMs?: number; realMs?: number; maxSteps?: number } = {}): Promise<T> {
  let settled = false;
  const done = p.finally(() => {
    settled = true;
  });
  done.catch(() => undefined);
  for (let i = 0; !settled; i++) {
    if (i > (options.maxSteps ?? 100_000)) throw new Error('drive: too many steps');
    await new Promise((r) => setTimeout(r, options.realMs ?? 2));
    if (!settled) clock.advance(options.stepMs ?? 1_000);
  }
  return done;
}

/** Waits (real time) until `cond` holds. */
export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
