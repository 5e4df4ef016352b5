/**
 * How a hunt group rings, as a list of steps: each step rings a set of
 * members at once for some seconds. The call controller walks the steps;
 * a step whose members have no registered phone, or are all busy, is passed
 * over at once so callers do not wait on empty desks.
 *
 *   ring-all:   [ {201,202,203} for ringSeconds ]
 *   sequential: [ {301} for ringSeconds ] → [ {302} …] → [ {303} …]
 */
import type { HuntGroup } from './directory.js';

export interface RingStep {
  members: string[];
  seconds: number;
}

export function huntPlan(group: HuntGroup): RingStep[] {
  switch (group.strategy) {
    case 'ring-all':
      return [{ members: [...group.members], seconds: group.ringSeconds }];
    case 'sequential':
      return group.members.map((m) => ({ members: [m], seconds: group.ringSeconds }));
    default: {
      const never: never = group.strategy;
      throw new Error(`unknown hunt strategy ${String(never)}`);
    }
  }
}
