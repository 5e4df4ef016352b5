/**
 * The health of one uplink (the cloud SBC or a backup trunk), from its
 * OPTIONS probes (RFC 3261 §11) and the state of the interface it leaves by.
 * This is where the hysteresis lives: one lost probe is not an outage, and a
 * link that comes back is not trusted until it has answered for a while.
 *
 *                 good probe
 *   unknown ───────────────────────────────────────────► up ◄───────┐
 *      │                                                 │  ▲       │
 *      │ failAfter lost in a row,            lost probe  │  │ good  │ good probes for
 *      │ or link down                                    ▼  │ probe │ recoverAfterMs
 *      │                                               suspect      │ (0: at once)
 *      │                        failAfter lost in a row, │          │
 *      ▼                        or link down             ▼          │
 *    down ◄──────────────────────────────────────────────┘          │
 *      │  ▲                                                         │
 *      │  │ lost probe, or link down                                │
 *      ▼  │                                                         │
 *   recovering ─────────────────────────────────────────────────────┘
 *   (first good probe with the link up)
 *
 * `up` and `suspect` carry calls; `recovering` answers but waits out its
 * hysteresis; `unknown` is the few milliseconds before the first answer.
 * Every input is a method call; time comes from the caller (the injected
 * clock's monotonic reading), so the machine is pure and tested on a fake
 * clock. transition() is the only way to change state and rejects moves
 * the table does not list.
 */
import { PgwError } from '../util/errors.js';

export type HealthState = 'unknown' | 'up' | 'suspect' | 'down' | 'recovering';

export const HEALTH_TRANSITIONS: Readonly<Record<HealthState, readonly HealthState[]>> = {
  unknown: ['up', 'suspect', 'down'],
  up: ['suspect', 'down'],
  suspect: ['up', 'down'],
  down: ['recovering', 'up'],
  recovering: ['up', 'down'],
};

/** Why the state changed, for logs, status and events. */
/** `reconfigured`: the uplink was replaced by a config change (the mode follows the new one). */
export type HealthReason = 'first-answer' | 'probe-lost' | 'probes-lost' | 'link-down' | 'answering' | 'recovered' | 'reconfigured';

export interface HealthChange {
  from: HealthState;
  to: HealthState;
  reason: HealthReason;
}

export interface HealthRules {
  /** Lost probes in a row that make the uplink down. */
  failAfter: number;
  /** Good probes for this long bring it back up. */
  recoverAfterMs: number;
}

export class UplinkHealth {
  private current: HealthState = 'unknown';
  private lostInARow = 0;
  private linkUp = true;
  private recoveringSince = 0;

  constructor(
    private readonly rules: HealthRules,
    private readonly onChange: (change: HealthChange) => void = () => undefined,
  ) {
    if (!Number.isInteger(rules.failAfter) || rules.failAfter < 1) {
      throw new PgwError('PGW_E_CONFIG_INVALID', `probe.failAfter must be a positive integer, not ${rules.failAfter}`);
    }
  }

  get state(): HealthState {
    return this.current;
  }

  /** Healthy enough to carry new calls. */
  get usable(): boolean {
    return this.current === 'up' || this.current === 'suspect';
  }

  get isLinkUp(): boolean {
    return this.linkUp;
  }

  /** A probe was answered (any final response but 408/503, see options-prober.ts). */
  probeAnswered(nowMs: number): void {
    this.lostInARow = 0;
    if (!this.linkUp) return; // a late answer that crossed the link going down
    switch (this.current) {
      case 'unknown':
        // No hysteresis at start: a box that has just booted trusts the first answer.
        this.transition('up', 'first-answer');
        return;
      case 'up':
        return;
      case 'suspect':
        this.transition('up', 'answering');
        return;
      case 'down':
        if (this.rules.recoverAfterMs <= 0) {
          this.transition('up', 'recovered');
          return;
        }
        this.recoveringSince = nowMs;
        this.transition('recovering', 'answering');
        return;
      case 'recovering':
        if (nowMs - this.recoveringSince >= this.rules.recoverAfterMs) this.transition('up', 'recovered');
        return;
      default: {
        const never: never = this.current;
        throw new Error(`unhandled health state ${String(never)}`);
      }
    }
  }

  /** A probe went unanswered (timed out, or could not be sent). */
  probeLost(): void {
    this.lostInARow++;
    const exhausted = this.lostInARow >= this.rules.failAfter;
    switch (this.current) {
      case 'unknown':
      case 'up':
        if (exhausted) this.transition('down', 'probes-lost');
        else this.transition('suspect', 'probe-lost');
        return;
      case 'suspect':
        if (exhausted) this.transition('down', 'probes-lost');
        return;
      case 'recovering':
        // Hysteresis: one loss while proving itself sends it back to the start.
        this.transition('down', 'probe-lost');
        return;
      case 'down':
        return;
      default: {
        const never: never = this.current;
        throw new Error(`unhandled health state ${String(never)}`);
      }
    }
  }

  /** The interface the uplink leaves by lost its carrier or was set down. */
  linkDown(): void {
    if (!this.linkUp) return;
    this.linkUp = false;
    if (this.current !== 'down') this.transition('down', 'link-down');
  }

  /** The interface is back; the uplink stays down until a probe is answered. */
  linkRestored(): void {
    this.linkUp = true;
    this.lostInARow = 0;
  }

  private transition(to: HealthState, reason: HealthReason): void {
    const from = this.current;
    if (!HEALTH_TRANSITIONS[from].includes(to)) {
      throw new PgwError('PGW_E_STATE_TRANSITION', `uplink health: illegal transition ${from} -> ${to}`, { context: { from, to } });
    }
    this.current = to;
    this.onChange({ from, to, reason });
  }
}
