/**
 * Maintenance windows on FakeClock, in Europe/London across the BST/GMT
 * changes (2024: BST from Sunday 31 March 01:00 UTC to Sunday 27 October
 * 01:00 UTC).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { inWindow, localTime, nextWindowChange } from '../../../../ota/agent/window.js';
import { parseOtaDesired } from '../../../../ota/protocol/desired.js';
import type { MaintenanceWindow } from '../../../../ota/protocol/desired.js';

const TZ = 'Europe/London';
const at = (iso: string): number => Date.parse(iso);

test('local time follows GMT in winter and BST in summer', () => {
  assert.equal(localTime(at('2024-03-25T07:30:00Z'), TZ), { day: 'mon', minute: 7 * 60 + 30 });
  assert.equal(localTime(at('2024-04-01T07:30:00Z'), TZ), { day: 'mon', minute: 8 * 60 + 30 });
  assert.equal(localTime(at('2024-10-28T07:30:00Z'), TZ), { day: 'mon', minute: 7 * 60 + 30 });
});

test('default window: closed 08:00-18:30 local on weekdays, on both sides of the clock change', () => {
  // Monday 25 March 2024 (GMT): 07:30 UTC = 07:30 local → open; Monday 1 April (BST): 07:30 UTC = 08:30 local → closed.
  assert.ok(inWindow(at('2024-03-25T07:30:00Z'), undefined, TZ));
  assert.not.ok(inWindow(at('2024-04-01T07:30:00Z'), undefined, TZ));
  // 18:30 local is the first open minute: 17:30 UTC in BST, 18:30 UTC in GMT.
  assert.not.ok(inWindow(at('2024-04-01T17:29:00Z'), undefined, TZ));
  assert.ok(inWindow(at('2024-04-01T17:30:00Z'), undefined, TZ));
  assert.not.ok(inWindow(at('2024-03-25T18:29:00Z'), undefined, TZ));
  assert.ok(inWindow(at('2024-03-25T18:30:00Z'), undefined, TZ));
  // Weekends are open all day; Saturday midday.
  assert.ok(inWindow(at('2024-03-30T12:00:00Z'), undefined, TZ));
});

test('the window follows the site time zone, not the process TZ', () => {
  // 07:30 UTC on a winter Monday is 08:30 in Paris: closed there, open in London.
  assert.not.ok(inWindow(at('2024-03-25T07:30:00Z'), undefined, 'Europe/Paris'));
  assert.ok(inWindow(at('2024-03-25T07:30:00Z'), { timezone: 'Europe/Paris', deny: [] }, TZ));
  assert.ok(inWindow(at('2024-03-25T07:30:00Z'), undefined, TZ));
});

test('next change on a FakeClock: Friday evening opens at 18:30 local, Monday closes at 08:00 local', () => {
  const clock = new FakeClock(at('2024-03-29T12:00:00Z')); // Good Friday 2024, GMT
  const open = nextWindowChange(clock.now(), undefined, TZ);
  assert.is(new Date(open!).toISOString(), '2024-03-29T18:30:00.000Z');
  clock.advance(open! - clock.now());
  assert.ok(inWindow(clock.now(), undefined, TZ));
  // The clocks go forward on Sunday 31 March: Monday 08:00 BST is 07:00 UTC.
  const close = nextWindowChange(clock.now(), undefined, TZ);
  assert.is(new Date(close!).toISOString(), '2024-04-01T07:00:00.000Z');
});

test('autumn change: Monday 28 October 2024 closes at 08:00 GMT = 08:00 UTC', () => {
  const clock = new FakeClock(at('2024-10-26T12:00:00Z')); // Saturday, BST
  const close = nextWindowChange(clock.now(), undefined, TZ);
  assert.is(new Date(close!).toISOString(), '2024-10-28T08:00:00.000Z');
});

test('allow ranges that cross midnight, on chosen days, with deny on top', () => {
  const w: MaintenanceWindow = {
    timezone: TZ,
    allow: [{ days: ['tue', 'wed'], from: '22:00', to: '04:00' }],
    deny: [{ days: ['wed'], from: '01:00', to: '02:00' }],
  };
  assert.ok(inWindow(at('2024-01-09T23:00:00Z'), w, TZ)); // Tue 23:00
  assert.ok(inWindow(at('2024-01-10T00:30:00Z'), w, TZ)); // Wed 00:30, Tue's range
  assert.not.ok(inWindow(at('2024-01-10T01:30:00Z'), w, TZ)); // denied
  assert.ok(inWindow(at('2024-01-10T03:59:00Z'), w, TZ));
  assert.not.ok(inWindow(at('2024-01-10T04:00:00Z'), w, TZ));
  assert.not.ok(inWindow(at('2024-01-08T23:00:00Z'), w, TZ)); // Monday: not an allowed day
  assert.ok(inWindow(at('2024-01-11T02:00:00Z'), w, TZ)); // Thu 02:00 from Wed 22:00
  assert.not.ok(inWindow(at('2024-01-12T02:00:00Z'), w, TZ)); // Fri 02:00: Thu not allowed
});

test('a window at 01:00-02:00 local on the spring-forward night: the hour does not exist that night', () => {
  const w: MaintenanceWindow = { timezone: TZ, allow: [{ from: '01:00', to: '02:00' }] };
  // Sunday 31 March 2024: 00:59 UTC = 00:59 GMT; 01:00 UTC = 02:00 BST. Never open that night.
  assert.not.ok(inWindow(at('2024-03-31T00:59:00Z'), w, TZ));
  assert.not.ok(inWindow(at('2024-03-31T01:00:00Z'), w, TZ));
  // From Saturday midday, the next opening skips the missing hour: Monday 1 April 01:00 BST = 00:00 UTC.
  const nextOpen = nextWindowChange(at('2024-03-30T12:00:00Z'), w, TZ);
  assert.is(new Date(nextOpen!).toISOString(), '2024-04-01T00:00:00.000Z');
  // In autumn the hour happens twice (01:00-02:00 BST, then 01:00-02:00 GMT): open for both.
  assert.ok(inWindow(at('2024-10-27T00:30:00Z'), w, TZ));
  assert.ok(inWindow(at('2024-10-27T01:30:00Z'), w, TZ));
  assert.not.ok(inWindow(at('2024-10-27T02:00:00Z'), w, TZ));
});

test('always-open and never-open windows have no next change', () => {
  assert.is(nextWindowChange(at('2024-01-01T00:00:00Z'), { deny: [] }, TZ), null);
  assert.is(nextWindowChange(at('2024-01-01T00:00:00Z'), { allow: [] }, TZ), null);
});

test('ota/desired validation: window fields, time zones, defer-until needs notBefore', () => {
  const base = { id: 'x1', version: '1.2.0', url: 'https://updates.example/b.pgwota', size: 10, sha256: 'a'.repeat(64) };
  assert.ok(parseOtaDesired(JSON.stringify(base)).ok);
  const bad = parseOtaDesired(JSON.stringify({ ...base, window: { timezone: 'Mars/Olympus', allow: [{ from: '25:00', to: '01:00' }] } }));
  assert.not.ok(bad.ok);
  if (!bad.ok) {
    assert.ok(bad.errors.some((e) => e.path === 'window.timezone'));
    assert.ok(bad.errors.some((e) => e.path === 'window.allow.0.from'));
  }
  const d = parseOtaDesired(JSON.stringify({ ...base, policy: 'defer-until' }));
  assert.ok(!d.ok && d.errors.some((e) => e.path === 'notBefore'));
  const ftp = parseOtaDesired(JSON.stringify({ ...base, url: 'ftp://x/y' }));
  assert.not.ok(ftp.ok);
  const p = parseOtaDesired(JSON.stringify(base));
  assert.ok(p.ok && p.desired.policy === 'window');
});

test.run();
