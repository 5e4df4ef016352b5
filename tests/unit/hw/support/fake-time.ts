/**
 * Moves a FakeClock forward in small steps and lets promise chains and
 * in-memory link deliveries run between the steps, so drivers that await I/O
 * between timers behave as they would in real time, only instantly.
 */
import type { FakeClock } from '../../../../firmware/src/util/clock.js';

export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export async function run(clock: FakeClock, ms: number, stepMs = 50): Promise<void> {
  await flush();
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(Math.min(stepMs, ms - t));
    await flush();
  }
}

/** Advance until cond() holds; fails after maxMs of fake time. */
export async function until(clock: FakeClock, cond: () => boolean, maxMs: number, stepMs = 50): Promise<number> {
  await flush();
  let t = 0;
  while (!cond()) {
    if (t >= maxMs) throw new Error(`condition not met within ${maxMs} ms of fake time`);
    clock.advance(stepMs);
    t += stepMs;
    await flush();
  }
  return t;
}
