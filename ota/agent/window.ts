/**
 * Maintenance windows in the site's local time. The local wall clock comes
 * from Intl with the IANA time zone, never from the process TZ or a fixed
 * offset, so "08:00" means 08:00 in Europe/London on both sides of the
 * BST/GMT changes. A range `from`–`to` with `to` at or before `from` runs
 * past midnight (22:00–06:00); its `days` are the days it starts on.
 *
 * Inside the window = (no `allow`, or some `allow` range holds) and no
 * `deny` range holds. The default denies 08:00–18:30 Monday to Friday
 * (DOMAIN.md core hours): nights and weekends are open.
 */
import { DAYS, DEFAULT_WINDOW } from '../protocol/desired.js';
import type { Day, MaintenanceWindow, TimeRange } from '../protocol/desired.js';

export const DEFAULT_TIMEZONE = 'Europe/London';

export interface LocalTime {
  day: Day;
  /** Minutes since local midnight, 0..1439. */
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, f);
  }
  return f;
}

const WEEKDAY: Record<string, Day> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };

export function localTime(ms: number, tz: string): LocalTime {
  let day: Day | undefined;
  let hour = 0;
  let minute = 0;
  for (const p of formatter(tz).formatToParts(new Date(ms))) {
    if (p.type === 'weekday') day = WEEKDAY[p.value];
    else if (p.type === 'hour') hour = Number(p.value) % 24;
    else if (p.type === 'minute') minute = Number(p.value);
  }
  if (!day) throw new Error(`Intl gave no weekday for ${tz}`);
  return { day, minute: hour * 60 + minute };
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

function previousDay(d: Day): Day {
  return DAYS[(DAYS.indexOf(d) + 6) % 7]!;
}

export function rangeHolds(r: TimeRange, t: LocalTime): boolean {
  const days = r.days ?? DAYS;
  const from = minutesOf(r.from);
  const to = minutesOf(r.to);
  if (from < to) return days.includes(t.day) && t.minute >= from && t.minute < to;
  // Wraps past midnight (or from == to: a whole day starting at `from`).
  return (days.includes(t.day) && t.minute >= from) || (days.includes(previousDay(t.day)) && t.minute < to);
}

export function inWindow(ms: number, window: MaintenanceWindow | undefined, defaultTz = DEFAULT_TIMEZONE): boolean {
  const w = window ?? DEFAULT_WINDOW;
  const t = localTime(ms, w.timezone ?? defaultTz);
  const allowed = w.allow === undefined || w.allow.some((r) => rangeHolds(r, t));
  return allowed && !(w.deny ?? []).some((r) => rangeHolds(r, t));
}

/**
 * The first minute boundary after `ms` where inWindow() changes, within
 * `horizonMs` (default 8 days), or null if it never does (always open or
 * never open). Steps a minute at a time: every UTC offset in use is a whole
 * number of minutes, so local minutes start on UTC minute boundaries.
 */
export function nextWindowChange(
  ms: number,
  window: MaintenanceWindow | undefined,
  defaultTz = DEFAULT_TIMEZONE,
  horizonMs = 8 * 24 * 3600_000,
): number | null {
  const now = inWindow(ms, window, defaultTz);
  let t = Math.floor(ms / 60_000) * 60_000 + 60_000;
  const end = ms + horizonMs;
  for (; t <= end; t += 60_000) {
    if (inWindow(t, window, defaultTz) !== now) return t;
  }
  return null;
}
