/**
 * The gateway's mode (CONTRACT.md): `normal` while the cloud uplink carries
 * external calls, `survivability` while it does not and the box runs the
 * practice on its own, sending external calls over a backup trunk.
 *
 *                 cloud down (probes lost, or HSCN interface down)
 *        ┌────────┐ ─────────────────────────────────────────► ┌───────────────┐
 *  ────► │ normal │                                            │ survivability │
 *        └────────┘ ◄───────────────────────────────────────── └───────────────┘
 *                 cloud up again (answered for recoverAfterMs; register mode:
 *                 and the upstream registrations refreshed, or a bounded wait)
 *
 * Two things besides the cloud's health can hold the mode in
 * `survivability` (follow()'s `holdNormal`): in register mode, the upstream
 * registrations not yet refreshed after the cloud came back (so the
 * platform can reach the desks again before the box fails back; bounded by
 * the cloud uplink), and a `cmd/failover-test` simulating HSCN down (the
 * manager then hands follow() a `down` cloud for the test's seconds).
 *
 * The hysteresis is in the cloud's health machine (uplink-health.ts): the
 * mode follows only `up`/`suspect` (normal) versus `down`/`recovering`
 * (survivability), so one lost probe never flips it, and failback waits out
 * recoverAfterMs of good probes. A box with no cloud uplink is always
 * `normal` (there is nothing to survive without). A box that has just
 * started with a cloud uplink starts in `survivability` and goes `normal`
 * on the cloud's first answer, so it never sends a call to a cloud it has
 * not heard from.
 *
 * Mode changes never touch calls in progress: a call keeps the path it was
 * set up on and ends when someone hangs up (or its media dies).
 */
import { PgwError } from '../util/errors.js';
import type { HealthReason, HealthState } from './uplink-health.js';

export type GatewayMode = 'normal' | 'survivability';

export const MODE_TRANSITIONS: Readonly<Record<GatewayMode, readonly GatewayMode[]>> = {
  normal: ['survivability'],
  survivability: ['normal'],
};

/**
 * Why the mode moved: what moved the cloud's health (probes-lost, link-down,
 * recovered, first-answer…), or `registrations-refreshed` /
 * `registration-wait-over` (register mode: failback waited for the upstream
 * registrations), or `failover-test` / `failover-test-over` (a simulated
 * HSCN outage began or ended).
 */
export type ModeReason = HealthReason | 'registrations-refreshed' | 'registration-wait-over' | 'failover-test' | 'failover-test-over';

export interface ModeChange {
  mode: GatewayMode;
  previous: GatewayMode;
  reason: ModeReason;
  /** Wall-clock ms. */
  at: number;
}

/** The mode the cloud's health calls for. */
export function modeFor(cloud: HealthState | undefined): GatewayMode {
  if (cloud === undefined) return 'normal';
  return cloud === 'up' || cloud === 'suspect' ? 'normal' : 'survivability';
}

export class FailoverMachine {
  private current: GatewayMode;

  constructor(hasCloud: boolean) {
    this.current = hasCloud ? 'survivability' : 'normal';
  }

  get mode(): GatewayMode {
    return this.current;
  }

  /**
   * Follows the cloud's health; returns the change when the mode moved.
   * `holdNormal`: stay in survivability even though the cloud is healthy
   * (never forces a move out of normal).
   */
  follow(cloud: HealthState | undefined, reason: ModeReason, at: number, holdNormal = false): ModeChange | undefined {
    const to = modeFor(cloud);
    if (to === this.current) return undefined;
    if (to === 'normal' && holdNormal) return undefined;
    const previous = this.current;
    this.transition(to);
    return { mode: to, previous, reason, at };
  }

  private transition(to: GatewayMode): void {
    const from = this.current;
    if (!MODE_TRANSITIONS[from].includes(to)) {
      throw new PgwError('PGW_E_STATE_TRANSITION', `gateway mode: illegal transition ${from} -> ${to}`, { context: { from, to } });
    }
    this.current = to;
  }
}
