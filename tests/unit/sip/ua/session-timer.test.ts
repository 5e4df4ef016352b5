import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import {
  SessionTimer,
  expiryMarginSeconds,
  parseMinSE,
  parseSessionExpires,
  uacTimerFromResponse,
  uasTimerDecision,
} from '../../../../firmware/src/sip/ua/session-timer.js';
import { FakeClock } from '../../../../firmware/src/util/clock.js';

const cfg = { enabled: true, interval: 1800, minSE: 90 };
const req = (lines: [string, string][]): SipRequest => ({ kind: 'request', method: 'INVITE', uri: 'sip:x', headers: new Headers(lines), body: Buffer.alloc(0) });

test('parse Session-Expires and Min-SE', () => {
  assert.equal(parseSessionExpires('1800'), { interval: 1800 });
  assert.equal(parseSessionExpires(' 600 ; refresher = UAS'), { interval: 600, refresher: 'uas' });
  assert.equal(parseSessionExpires('600;refresher=bogus'), { interval: 600 });
  assert.is(parseSessionExpires('abc'), undefined);
  assert.is(parseSessionExpires(undefined), undefined);
  assert.is(parseMinSE('90'), 90);
  assert.is(parseMinSE('x'), undefined);
});

test('UAS: copy the request value, reduce to ours but not below Min-SE, never increase', () => {
  const d = uasTimerDecision(req([['Session-Expires', '3600'], ['Min-SE', '2000'], ['Supported', 'timer']]), cfg);
  assert.equal(d, { kind: 'active', interval: 2000, refresher: 'uac', headers: [['Session-Expires', '2000;refresher=uac'], ['Require', 'timer']] });
  const e = uasTimerDecision(req([['Session-Expires', '600'], ['Supported', 'timer']]), cfg);
  assert.is(e.kind === 'active' && e.interval, 600);
});

test('UAS: refresher from the request, else uac when supported, else uas (no Require then)', () => {
  const a = uasTimerDecision(req([['Session-Expires', '1800;refresher=uas'], ['Supported', 'timer']]), cfg);
  assert.equal(a.kind === 'active' && a.headers, [['Session-Expires', '1800;refresher=uas']]);
  const b = uasTimerDecision(req([['Session-Expires', '1800']]), cfg);
  assert.equal(b.kind === 'active' && [b.refresher, b.headers], ['uas', [['Session-Expires', '1800;refresher=uas']]]);
  const c = uasTimerDecision(req([]), cfg);
  assert.equal(c.kind === 'active' && [c.interval, c.refresher], [1800, 'uas']);
});

test('UAS: too small → 422 with our Min-SE; disabled → none', () => {
  assert.equal(uasTimerDecision(req([['Session-Expires', '60']]), cfg), { kind: 'too-small', minSE: 90 });
  assert.equal(uasTimerDecision(req([['Session-Expires', '200']]), { ...cfg, minSE: 300 }), { kind: 'too-small', minSE: 300 });
  assert.equal(uasTimerDecision(req([['Session-Expires', '200']]), { ...cfg, enabled: false }), { kind: 'none' });
});

test('UAC: from the 2xx; no header means no timer; missing refresher means us', () => {
  assert.equal(uacTimerFromResponse(req([['Session-Expires', '900;refresher=uas']])), { interval: 900, refresher: 'uas' });
  assert.equal(uacTimerFromResponse(req([['Session-Expires', '900']])), { interval: 900, refresher: 'uac' });
  assert.is(uacTimerFromResponse(req([])), undefined);
});

test('expiry margin: min(32 s, interval/3)', () => {
  assert.is(expiryMarginSeconds(1800), 32);
  assert.is(expiryMarginSeconds(90), 30);
});

test('SessionTimer schedules refresh at half and expiry at the full interval (refresher), restarts cleanly', () => {
  const clock = new FakeClock();
  const events: string[] = [];
  const t = new SessionTimer(clock, { onRefreshDue: () => events.push(`refresh@${clock.now() - 1_700_000_000_000}`), onExpired: () => events.push(`expired@${clock.now() - 1_700_000_000_000}`) });
  t.start(100, true);
  clock.advance(100_000);
  assert.equal(events, ['refresh@50000', 'expired@100000']);
  events.length = 0;
  t.start(90, false);
  clock.advance(30_000);
  t.start(90, false); // a refresh
  clock.advance(59_999);
  assert.equal(events, []);
  clock.advance(1);
  assert.equal(events, ['expired@190000']);
  t.stop();
  assert.is(t.state, undefined);
  assert.is(clock.pending(), 0);
});

test.run();
