/**
 * What a dialled number means. The answer is data; the call controller acts
 * on it. Order matters: emergency numbers first, so no extension or group
 * numbered 999 or 112 can ever shadow them (Ofcom General Condition A3).
 */
import type { Directory, Extension, HuntGroup } from './directory.js';

export type Destination =
  | { kind: 'emergency'; number: string }
  | { kind: 'extension'; extension: Extension }
  | { kind: 'hunt-group'; group: HuntGroup }
  | { kind: 'external'; number: string }
  | { kind: 'unknown'; number: string };

/** Digits, with an optional leading + (E.164), as dialled on a desk phone. */
const DIALLABLE = /^\+?[0-9*#]{1,32}$/;

export interface DialPlanOptions {
  /** True when an uplink can carry calls out of the building (issue 6). */
  externalAllowed: boolean;
  /**
   * The outside-line digit (e.g. 9), when the practice uses one. 9-999 and
   * 9-112 are emergency calls too: people dial the prefix out of habit, and
   * the call must connect (Ofcom General Condition A3).
   */
  outsideLinePrefix?: string;
}

export function resolveDestination(directory: Directory, dialled: string, options: DialPlanOptions): Destination {
  const number = dialled.trim();
  if (directory.emergencyNumbers.includes(number)) return { kind: 'emergency', number };
  const prefix = options.outsideLinePrefix;
  if (prefix && number.startsWith(prefix)) {
    const bare = number.slice(prefix.length);
    // The bare number goes out: carriers route 999, not 9999.
    if (directory.emergencyNumbers.includes(bare)) return { kind: 'emergency', number: bare };
  }
  const extension = directory.extensions.get(number);
  if (extension) return { kind: 'extension', extension };
  const group = directory.huntGroups.get(number);
  if (group) return { kind: 'hunt-group', group };
  // Anything else that looks like a telephone number leaves the building,
  // when there is an uplink to carry it (issue 6).
  if (options.externalAllowed && DIALLABLE.test(number) && number.length > 4) return { kind: 'external', number };
  return { kind: 'unknown', number };
}
