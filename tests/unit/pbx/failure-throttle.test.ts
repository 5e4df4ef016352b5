import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { FailureThrottle } from '../../../firmware/src/pbx/failure-throttle.js';

test('blocks a username at an address after maxFailures within the window, for blockMs', () => {
  const clock = new FakeClock();
  const t = new FailureThrottle({ clock, maxFailures: 3, windowMs: 10_000, blockMs: 60_000 });
  assert.not.ok(t.fail('203.0.113.9', '201'));
  assert.not.ok(t.fail('203.0.113.9', '201'));
  assert.not.ok(t.isBlocked('203.0.113.9', '201'));
  assert.ok(t.fail('203.0.113.9', '201'));
  assert.ok(t.isBlocked('203.0.113.9', '201'));
  assert.not.ok(t.isBlocked('203.0.113.10', '201'), 'other addresses are not affected');
  clock.advance(60_000);
  assert.not.ok(t.isBlocked('203.0.113.9', '201'));
});

test('one phone with a wrong password does not lock out its neighbours behind the same NAT address', () => {
  const clock = new FakeClock();
  const t = new FailureThrottle({ clock, maxFailures: 3, maxSourceFailures: 20 });
  for (let i = 0; i < 3; i++) t.fail('198.51.100.7', '203');
  assert.ok(t.isBlocked('198.51.100.7', '203'));
  assert.not.ok(t.isBlocked('198.51.100.7', '201'), 'another extension at the same address still registers');
  assert.not.ok(t.isBlocked('198.51.100.7'));
});

test('a scanner rotating usernames blocks its whole address', () => {
  const clock = new FakeClock();
  const t = new FailureThrottle({ clock, maxFailures: 3, maxSourceFailures: 20 });
  let blocked = false;
  for (let i = 0; i < 20; i++) blocked = t.fail('203.0.113.66', String(100 + i)) || blocked;
  assert.ok(blocked);
  assert.ok(t.isBlocked('203.0.113.66'));
  assert.ok(t.isBlocked('203.0.113.66', '999'), 'any username from that address');
});

test('failures outside the window do not add up', () => {
  const clock = new FakeClock();
  const t = new FailureThrottle({ clock, maxFailures: 3, windowMs: 10_000 });
  t.fail('a', 'u');
  t.fail('a', 'u');
  clock.advance(10_001);
  assert.not.ok(t.fail('a', 'u'));
  assert.not.ok(t.isBlocked('a', 'u'));
});

test('a success clears the count of that username at that address', () => {
  const clock = new FakeClock();
  const t = new FailureThrottle({ clock, maxFailures: 2 });
  t.fail('a', 'u');
  t.succeed('a', 'u');
  assert.not.ok(t.fail('a', 'u'));
  assert.not.ok(t.isBlocked('a', 'u'));
});

test('memory is bounded', () => {
  const clock = new FakeClock();
  const t = new FailureThrottle({ clock, maxFailures: 1, maxSourceFailures: 1, maxSources: 100 });
  for (let i = 0; i < 1000; i++) t.fail(`10.0.${i >> 8}.${i & 255}`, 'u');
  assert.ok(t.blockedSources().length <= 200);
});

test.run();
