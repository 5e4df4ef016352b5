import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff } from '../../../firmware/src/sync/backoff.js';

test('the ceiling doubles per failure from minMs and stops at maxMs', () => {
  const b = new Backoff({ minMs: 1000, maxMs: 30_000, random: () => 0.5 });
  const ceilings: number[] = [];
  for (let i = 0; i < 8; i++) {
    ceilings.push(b.ceiling());
    b.next();
  }
  assert.equal(ceilings, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.is(b.attempts, 8);
});

test('equal jitter: each delay lies in [ceiling/2, ceiling], never below minMs', () => {
  const low = new Backoff({ minMs: 1000, maxMs: 60_000, random: () => 0 });
  const high = new Backoff({ minMs: 1000, maxMs: 60_000, random: () => 0.999999 });
  // At attempt 0 the half-ceiling (500) would undercut minMs: the floor holds.
  assert.is(low.next(), 1000);
  assert.is(high.next(), 1000);
  assert.is(low.next(), 1000); // ceiling 2000 → [1000, 2000]
  assert.is(high.next(), 2000);
  for (let i = 0; i < 10; i++) {
    low.next();
    high.next();
  }
  assert.is(low.next(), 30_000);
  assert.is(high.next(), 60_000);
});

test('delays with real randomness stay within bounds and spread', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const delays = new Set<number>();
  for (let n = 0; n < 50; n++) {
    const b = new Backoff({ minMs: 100, maxMs: 5000, random: rnd });
    for (let i = 0; i < 12; i++) {
      const cap = b.ceiling();
      const d = b.next();
      assert.ok(d >= Math.max(100, cap / 2) && d <= cap, `delay ${d} outside [${cap / 2}, ${cap}]`);
      if (i === 11) delays.add(d);
    }
  }
  assert.ok(delays.size > 10, 'jitter spreads boxes that failed at the same time');
});

test('reset starts again from minMs', () => {
  const b = new Backoff({ minMs: 200, maxMs: 10_000, random: () => 0.999 });
  for (let i = 0; i < 6; i++) b.next();
  assert.ok(b.ceiling() > 200);
  b.reset();
  assert.is(b.attempts, 0);
  assert.is(b.ceiling(), 200);
});

test('silly bounds are made sane: maxMs below minMs is minMs', () => {
  const b = new Backoff({ minMs: 500, maxMs: 100, random: () => 0.5 });
  assert.is(b.next(), 500);
  assert.is(b.next(), 500);
});

test.run();
