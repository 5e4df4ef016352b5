/** ExpiryQueue: items end exactly at their deadline, with one clock timer for the whole queue, and a bound evicts the oldest. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { ExpiryQueue } from '../../../../firmware/src/sip/transaction/expiry-queue.js';

interface Item {
  name: string;
}

function setup(opts: { lifetimeMs?: number; max?: number } = {}) {
  const clock = new FakeClock();
  const start = clock.monotonic();
  const ended: string[] = [];
  const evicted: string[] = [];
  const at: number[] = [];
  const queue = new ExpiryQueue<Item>({
    clock,
    lifetimeMs: opts.lifetimeMs ?? 32_000,
    onExpire: (item) => {
      ended.push(item.name);
      at.push(clock.monotonic() - start);
    },
    ...(opts.max === undefined ? {} : { max: opts.max, onEvict: (item: Item) => evicted.push(item.name) }),
  });
  return { clock, start, queue, ended, evicted, at };
}

test('each item ends exactly lifetime after it was added, in order', () => {
  const s = setup();
  const a = { name: 'a' };
  assert.is(s.queue.add(a), s.start + 32_000, 'add() returns the deadline');
  s.clock.advance(10);
  s.queue.add({ name: 'b' });
  s.clock.advance(5);
  s.queue.add({ name: 'c' });
  s.clock.advance(32_000 - 15 - 1);
  assert.equal(s.ended, []);
  s.clock.advance(1);
  assert.equal(s.ended, ['a']);
  s.clock.advance(15);
  assert.equal(s.ended, ['a', 'b', 'c']);
  assert.equal(s.at, [32_000, 32_010, 32_015]);
  assert.is(s.queue.size, 0);
  assert.ok(!s.queue.has(a));
});

test('one clock timer however many items', () => {
  const s = setup();
  for (let i = 0; i < 1000; i++) {
    s.queue.add({ name: String(i) });
    s.clock.advance(1);
  }
  assert.is(s.clock.pending(), 1);
  s.clock.advance(32_000);
  assert.is(s.ended.length, 1000);
  assert.is(s.clock.pending(), 0, 'no timer left once empty');
});

test('delete: the item never ends; the queue goes on with the others; empty means no timer', () => {
  const s = setup({ lifetimeMs: 100 });
  const a = { name: 'a' };
  const b = { name: 'b' };
  s.queue.add(a);
  s.clock.advance(10);
  s.queue.add(b);
  s.queue.delete(a);
  s.clock.advance(100);
  assert.equal(s.ended, ['b']);
  assert.equal(s.at, [110]);
  s.queue.add(a);
  s.queue.delete(a);
  assert.is(s.clock.pending(), 0);
});

test('items added while others end are timed from when they were added', () => {
  const s = setup({ lifetimeMs: 100 });
  const q = s.queue;
  q.add({ name: 'a' });
  // An item added from inside onExpire (what a layer might do) is still timed right.
  const again = new ExpiryQueue<Item>({
    clock: s.clock,
    lifetimeMs: 50,
    onExpire: (item) => {
      s.ended.push(`again:${item.name}`);
      if (item.name === 'x') again.add({ name: 'y' });
    },
  });
  again.add({ name: 'x' });
  s.clock.advance(50);
  assert.equal(s.ended, ['again:x']);
  s.clock.advance(49);
  assert.equal(s.ended, ['again:x']);
  s.clock.advance(1);
  assert.equal(s.ended, ['again:x', 'a', 'again:y']);
});

test('the bound evicts the oldest first, and eviction is not expiry', () => {
  const s = setup({ max: 3 });
  for (const name of ['a', 'b', 'c']) {
    s.queue.add({ name });
    s.clock.advance(1);
  }
  assert.equal(s.evicted, []);
  s.queue.add({ name: 'd' });
  assert.equal(s.evicted, ['a']);
  s.queue.add({ name: 'e' });
  assert.equal(s.evicted, ['a', 'b']);
  assert.is(s.queue.size, 3);
  s.clock.advance(40_000);
  assert.equal(s.ended, ['c', 'd', 'e']);
});

test('clear: nothing ends, no timer left', () => {
  const s = setup();
  s.queue.add({ name: 'a' });
  s.queue.clear();
  s.clock.advance(40_000);
  assert.equal(s.ended, []);
  assert.is(s.clock.pending(), 0);
});

test.run();
