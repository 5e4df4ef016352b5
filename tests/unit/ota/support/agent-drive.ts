/** Driving an in-process agent on a FakeClock until it reaches a state. */
import type { FakeClock } from '../../../../firmware/src/util/clock.js';
import type { OtaAgent } from '../../../../ota/agent/agent.js';
import type { OtaState } from '../../../../ota/agent/states.js';

export async function driveUntil(
  clock: FakeClock,
  cond: () => boolean,
  options: { stepMs?: number; realMs?: number; timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const end = Date.now() + (options.timeoutMs ?? 8_000);
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${options.what ?? 'a condition'}`);
    await new Promise((r) => setTimeout(r, options.realMs ?? 2));
    if (!cond()) clock.advance(options.stepMs ?? 1_000);
  }
}

export function driveToState(clock: FakeClock, agent: () => OtaAgent | undefined, state: OtaState, stepMs = 1_000): Promise<void> {
  return driveUntil(clock, () => agent()?.state === state, { stepMs, what: `state ${state} (now ${agent()?.state})` });
}
