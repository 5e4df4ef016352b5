/**
 * `cmd/failover-test` (MQTT.md, Commands): the cloud sync's FailoverTester
 * port (sync/ports.ts), implemented over the uplink manager. The sync layer
 * is not imported: the shape matches structurally, so dependencies keep
 * pointing down.
 *
 * Without parameters (or `{}`) the test is non-disruptive: every uplink is
 * probed now with one OPTIONS outside its schedule (not fed to its health
 * machine) and the answer tells, per uplink, its public state, health,
 * registration and the probe's status and round trip, plus which uplink
 * would carry a new external call and, in order, a 999 call right now.
 *
 * `{ "simulate": "hscn-down", "seconds": N }` (1 ≤ N ≤ 300, default 60)
 * also forces `survivability` for N seconds, as if HSCN had dropped: new
 * external calls go over the backup trunk; calls in progress are untouched
 * (a mode change never touches calls). When the time is up the mode
 * follows the cloud's real health again. A second simulation replaces the
 * first (its seconds count from the new request).
 */
import type { Clock } from '../util/clock.js';
import { PgwError } from '../util/errors.js';
import type { GatewayMode } from './failover.js';
import type { ProbeOutcome } from './options-prober.js';
import type { HealthState } from './uplink-health.js';

export const SIMULATION_MAX_SECONDS = 300;
export const SIMULATION_DEFAULT_SECONDS = 60;

export interface FailoverTestParams {
  simulate?: 'hscn-down';
  seconds?: number;
}

/** One uplink as a failover test reports it. */
export interface FailoverTestUplink {
  name: string;
  kind: 'cloud' | 'trunk';
  /** Public state (CONTRACT.md): up, standby, registering, down. */
  state: string;
  health: HealthState;
  /** Where the probe went, `protocol:address:port`; null before the peer resolved. */
  peer: string | null;
  /**
   * A trunk: its registration's state (`registered`, `retrying`, …); the
   * cloud in register mode: extensions bound upstream of those configured;
   * the cloud in trunk mode: null.
   */
  registration: string | { registered: number; total: number } | null;
  /** `reason`: why a probe failed (`503 Transport Error: ...certificate...`, `no answer in time`, `interface down`). */
  probe: { ok: boolean; status: number | 'timeout'; rttMs: number | null; reason: string | null };
}

export interface FailoverTestResult {
  test: 'probe' | 'hscn-down';
  mode: GatewayMode;
  uplinks: FailoverTestUplink[];
  /** The uplink a new external call would go to now (null: none, the phone would get 503), and a 999 call's order. */
  wouldCarry: { external: string | null; emergency: string[] };
  /** The simulated outage in force, if any (this one or an earlier one). */
  simulation: { simulate: 'hscn-down'; until: string; secondsLeft: number } | null;
  at: string;
}

/** What the test needs of the uplink manager. */
export interface FailoverTestTarget {
  hasUplinks(): boolean;
  readonly mode: GatewayMode;
  probeAll(): Promise<Array<Omit<FailoverTestUplink, 'probe'> & { outcome: ProbeOutcome & { reason?: string } }>>;
  wouldCarry(): { external: string | null; emergency: string[] };
  simulateHscnDown(seconds: number): void;
  /** Wall-clock ms the simulation ends, if one is in force. */
  simulationUntil(): number | undefined;
}

/** Reads the command's parameters; throws PGW_E_USAGE saying what is wrong. */
export function parseFailoverTestParams(params: unknown): FailoverTestParams {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw usage('parameters must be a JSON object');
  const p = params as Record<string, unknown>;
  const unknown = Object.keys(p).filter((k) => k !== 'simulate' && k !== 'seconds');
  if (unknown.length > 0) throw usage(`unknown parameter ${unknown.map((k) => `"${k}"`).join(', ')}; known: simulate, seconds`);
  if (p.simulate === undefined) {
    if (p.seconds !== undefined) throw usage('seconds needs simulate');
    return {};
  }
  if (p.simulate !== 'hscn-down') throw usage('simulate must be "hscn-down"');
  const seconds = p.seconds ?? SIMULATION_DEFAULT_SECONDS;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > SIMULATION_MAX_SECONDS) {
    throw usage(`seconds must be a whole number from 1 to ${SIMULATION_MAX_SECONDS}`);
  }
  return { simulate: 'hscn-down', seconds };
}

export class FailoverTest {
  constructor(
    private readonly target: FailoverTestTarget,
    private readonly clock: Clock,
  ) {}

  /** False until the gateway has uplinks (the command then answers `not-available`). */
  available(): boolean {
    return this.target.hasUplinks();
  }

  async run(params: unknown): Promise<FailoverTestResult> {
    const p = parseFailoverTestParams(params);
    if (p.simulate === 'hscn-down') this.target.simulateHscnDown(p.seconds ?? SIMULATION_DEFAULT_SECONDS);
    const probed = await this.target.probeAll();
    const until = this.target.simulationUntil();
    const now = this.clock.now();
    return {
      test: p.simulate ?? 'probe',
      mode: this.target.mode,
      uplinks: probed.map(({ outcome, ...u }) => ({
        ...u,
        probe: { ok: outcome.ok, status: outcome.status, rttMs: outcome.rttMs ?? null, reason: outcome.ok ? null : (outcome.reason ?? null) },
      })),
      wouldCarry: this.target.wouldCarry(),
      simulation:
        until !== undefined ? { simulate: 'hscn-down', until: new Date(until).toISOString(), secondsLeft: Math.max(0, Math.ceil((until - now) / 1000)) } : null,
      at: new Date(now).toISOString(),
    };
  }
}

function usage(message: string): PgwError {
  return new PgwError('PGW_E_USAGE', `failover-test: ${message}`);
}
