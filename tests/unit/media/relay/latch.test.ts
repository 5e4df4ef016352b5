import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Latch } from '../../../../firmware/src/media/relay/latch.js';

test('first source latches, others are rejected while it is active', () => {
  const l = new Latch();
  assert.is(l.accept('10.0.0.1', 4000, 0, 2000), 'latched');
  assert.is(l.accept('10.0.0.1', 4000, 10, 2000), 'same');
  assert.is(l.accept('10.0.0.9', 4000, 20, 2000), 'rejected');
  assert.is(l.accept('10.0.0.1', 4002, 30, 2000), 'rejected', 'same host, other port');
  assert.is(l.accept('10.0.0.1', 4000, 1900, 2000), 'same');
  assert.is(l.accept('10.0.0.9', 4000, 3899, 2000), 'rejected', 'the latched source spoke at 1900');
  assert.is(l.accept('10.0.0.9', 4000, 3900, 2000), 'relatched');
  assert.equal([l.address, l.port], ['10.0.0.9', 4000]);
  l.reset();
  assert.is(l.address, null);
  assert.is(l.accept('10.0.0.7', 5, 3901, 2000), 'latched');
});

test.run();
