import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NonceCountTracker } from '../../../../firmware/src/sip/auth/nonce-count-tracker.js';

test('counts must go up per nonce', () => {
  const t = new NonceCountTracker(10);
  assert.ok(t.accept('a', 1));
  assert.ok(t.accept('a', 2));
  assert.not.ok(t.accept('a', 2));
  assert.not.ok(t.accept('a', 1));
  assert.ok(t.accept('b', 1));
  assert.ok(t.accept('a', 7));
});

test('bounded: least recently used nonce is forgotten', () => {
  const t = new NonceCountTracker(2);
  t.accept('a', 1);
  t.accept('b', 1);
  t.accept('a', 2); // a is now most recent
  t.accept('c', 1); // evicts b
  assert.is(t.size(), 2);
  assert.not.ok(t.accept('a', 2));
  assert.ok(t.accept('b', 1)); // forgotten, accepted again
  assert.is(t.size(), 2);
});

test.run();
