/**
 * What changed between two practices, section by section, so the applier
 * touches only what changed and calls on untouched extensions, groups and
 * uplinks carry on (issue 3). Items are matched by their identity, not
 * their position: extensions and hunt groups by number, uplinks by name
 * (`cloud` and the trunk names), inbound routes by DID. Trunks are tried in
 * order, so a new order alone is a change (`uplinks.reordered`).
 */
import type { Practice } from '../config/practice-schema.js';
import { CLOUD_UPLINK_NAME } from '../config/practice-checks.js';
import { canonicalJson } from './canonical-json.js';
import type { ChangeSummary } from './payloads.js';

export interface KeyedChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

/** Sections diffed as a whole: any change in them is listed by name. */
export const SETTINGS_SECTIONS = ['site', 'sip', 'emergency', 'dialPlan', 'calls'] as const;
export type SettingsSection = (typeof SETTINGS_SECTIONS)[number];

export interface PracticeDiff {
  extensions: KeyedChanges;
  huntGroups: KeyedChanges;
  uplinks: KeyedChanges & { reordered: boolean };
  routes: KeyedChanges;
  settings: SettingsSection[];
  /** True when nothing but (perhaps) the version differs. */
  empty: boolean;
}

function keyed<T>(before: readonly T[], after: readonly T[], key: (x: T) => string): KeyedChanges {
  const old = new Map(before.map((x) => [key(x), canonicalJson(x)]));
  const out: KeyedChanges = { added: [], removed: [], changed: [] };
  const seen = new Set<string>();
  for (const x of after) {
    const k = key(x);
    seen.add(k);
    const was = old.get(k);
    if (was === undefined) out.added.push(k);
    else if (was !== canonicalJson(x)) out.changed.push(k);
  }
  for (const k of old.keys()) if (!seen.has(k)) out.removed.push(k);
  return out;
}

interface NamedUplink {
  name: string;
  body: unknown;
}

function uplinksOf(p: Practice | undefined): NamedUplink[] {
  const out: NamedUplink[] = [];
  if (!p?.uplinks) return out;
  if (p.uplinks.cloud) out.push({ name: CLOUD_UPLINK_NAME, body: p.uplinks.cloud });
  for (const t of p.uplinks.trunks) out.push({ name: t.name, body: t });
  return out;
}

/**
 * The changes that take `before` (undefined: nothing runs yet) to `after`.
 * `version` itself is not a change.
 */
export function diffPractice(before: Practice | undefined, after: Practice): PracticeDiff {
  const extensions = keyed(before?.extensions ?? [], after.extensions, (e) => e.number);
  const huntGroups = keyed(before?.huntGroups ?? [], after.huntGroups, (g) => g.number);
  const beforeUplinks = uplinksOf(before);
  const afterUplinks = uplinksOf(after);
  const uplinkChanges = keyed(beforeUplinks, afterUplinks, (u) => u.name);
  const trunkOrder = (list: NamedUplink[]): string[] => list.map((u) => u.name).filter((n) => n !== CLOUD_UPLINK_NAME);
  const kept = new Set(beforeUplinks.map((u) => u.name));
  const beforeOrder = trunkOrder(beforeUplinks).filter((n) => afterUplinks.some((u) => u.name === n));
  const afterOrder = trunkOrder(afterUplinks).filter((n) => kept.has(n));
  const reordered = beforeOrder.join('\n') !== afterOrder.join('\n');
  const routes = keyed(before?.inbound ?? [], after.inbound, (r) => r.did);
  const settings = SETTINGS_SECTIONS.filter(
    (s) => before === undefined || canonicalJson(before[s]) !== canonicalJson(after[s]),
  );
  const count = (c: KeyedChanges): number => c.added.length + c.removed.length + c.changed.length;
  const empty =
    count(extensions) + count(huntGroups) + count(uplinkChanges) + count(routes) + settings.length === 0 && !reordered;
  return { extensions, huntGroups, uplinks: { ...uplinkChanges, reordered }, routes, settings, empty };
}

/** Counts only: safe for events and logs. */
export function summariseDiff(d: PracticeDiff): ChangeSummary {
  const n = (c: KeyedChanges) => ({ added: c.added.length, removed: c.removed.length, changed: c.changed.length });
  return {
    extensions: n(d.extensions),
    huntGroups: n(d.huntGroups),
    uplinks: { ...n(d.uplinks), reordered: d.uplinks.reordered },
    routes: n(d.routes),
    settings: [...d.settings],
  };
}
