import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { FailureThrottle } from '../../../firmware/src/pbx/failure-throttle.js';

test('blocks a source after maxFailures within the window, for blockMs', () => {
  const clock = new FakeClock();
  const t = new FailureThrottle({ clock, maxFailures: 3, windowMs: 10_000, blockMs: 60_000 });
  assert.not.ok(t.fail('203.0.113.9'));
  assert.not.ok(t.fail('203.0.113.9'));
  assert.not.ok(t.isBlocked('203.0.113.9'));
  assert.ok(t.fail('203.0.113.9'));
  assert.ok(t.isBlocked('203.0.113.9'));
  assert.not.ok(t.isBlocked('203.0.113.10'), 'other sources are not affected');
  clock.advance(60_000);
  assert.not.ok(t.isBlocked('203.0.113.9'));
});

test('failures outside the window do not add up', () => {
  const clock = new FakeClock();
  const t = new FailureThrottle({ clock, maxFailures: 3, windowMs: 10_000 });
  t.fail('a');
  t.fail('a');
  clock.advance(10_001);
  assert.not.ok(t.fail('a'));
  assert.not.ok(t.isBlocked('a'));
});

test('a success clears the count', () => {
  const clock = new FakeClock();
  const t = new FailureThrottle({ clock, maxFailures: 2 });
  t.fail('a');
  t.succeed('a');
  assert.not.ok(t.fail('a'));
  assert.not.ok(t.isBlocked('a'));
});

test('memory is bounded', () => {
  const clock = new FakeClock();
  const t = new FailureThrottle({ clock, maxFailures: 1, maxSources: 100 });
  for (let i = 0; i < 1000; i++) t.fail(`10.0.${i >> 8}.${i & 255}`);
  assert.ok(t.blockedSources().length <= 100);
});

test.run();
