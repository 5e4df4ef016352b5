/**
 * Which uplinks a call leaving the building is offered to, in order.
 *
 * - External calls: the cloud in `normal` mode; in `survivability` (or with
 *   no cloud) the first trunk that is healthy and registered. One uplink
 *   only: a busy or unknown number is the far end's answer, and must not
 *   make a second call over another uplink.
 * - Emergency calls (999/112, Ofcom General Condition A3): every uplink,
 *   the usable ones first (the cloud before the trunks in `normal` mode),
 *   then the ones still proving themselves, then those never heard from,
 *   then the dead ones — a call to 999 is never refused while any uplink is
 *   configured, whatever the health checks say, and a failure on one
 *   (503, timeout, no answer) moves it to the next.
 */
import type { GatewayMode } from './failover.js';
import type { HealthState } from './uplink-health.js';

export interface UplinkStanding {
  name: string;
  kind: 'cloud' | 'trunk';
  health: HealthState;
  /** Healthy and (trunks) registered: can take a new call. */
  usable: boolean;
}

const EMERGENCY_RANK: Readonly<Record<HealthState, number>> = {
  up: 0,
  suspect: 0,
  recovering: 1,
  unknown: 2,
  down: 3,
};

/** `uplinks`: the cloud (if any) first, then the trunks in configured order. */
export function outboundOrder(kind: 'external' | 'emergency', mode: GatewayMode, uplinks: readonly UplinkStanding[]): string[] {
  if (kind === 'external') {
    const cloud = uplinks.find((u) => u.kind === 'cloud');
    if (cloud && mode === 'normal' && cloud.usable) return [cloud.name];
    const trunk = uplinks.find((u) => u.kind === 'trunk' && u.usable);
    return trunk ? [trunk.name] : [];
  }
  const ranked = uplinks.map((u, i) => ({ u, i, rank: u.usable ? 0 : EMERGENCY_RANK[u.health] === 0 ? 1 : EMERGENCY_RANK[u.health] }));
  ranked.sort((a, b) => a.rank - b.rank || a.i - b.i);
  return ranked.map((r) => r.u.name);
}
