import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { RateLimitedLog } from '../../../../firmware/src/sip/transport/rate-limited-log.js';
import { captureLogger } from './capture-logger.js';

test('at most N lines per window per source, then one summary', () => {
  const clock = new FakeClock();
  const logger = captureLogger();
  const log = new RateLimitedLog({ logger, clock, perWindow: 3, windowMs: 10_000 });
  for (let i = 0; i < 50; i++) log.warn('udp:192.0.2.1:5060', { i }, 'bad input');
  assert.is(logger.lines.length, 3);
  clock.advance(9_999);
  assert.is(logger.lines.length, 3);
  clock.advance(1);
  assert.is(logger.lines.length, 4);
  assert.is(logger.lines[3]!.fields.suppressed, 47);
  assert.is(logger.lines[3]!.fields.source, 'udp:192.0.2.1:5060');
  // A new window starts afresh.
  log.warn('udp:192.0.2.1:5060', {}, 'bad input');
  assert.is(logger.lines.length, 5);
});

test('sources are limited independently', () => {
  const clock = new FakeClock();
  const logger = captureLogger();
  const log = new RateLimitedLog({ logger, clock, perWindow: 2 });
  for (let i = 0; i < 5; i++) {
    log.warn('a', {}, 'x');
    log.warn('b', {}, 'x');
  }
  assert.is(logger.lines.length, 4);
});

test('no summary when nothing was held back', () => {
  const clock = new FakeClock();
  const logger = captureLogger();
  const log = new RateLimitedLog({ logger, clock, perWindow: 2 });
  log.warn('a', {}, 'x');
  clock.advance(60_000);
  assert.is(logger.lines.length, 1);
  assert.is(clock.pending(), 0);
});

test('too many sources: excess is counted, map stays bounded', () => {
  const clock = new FakeClock();
  const logger = captureLogger();
  const log = new RateLimitedLog({ logger, clock, perWindow: 1, maxSources: 10 });
  for (let i = 0; i < 100; i++) log.warn(`s${i}`, {}, 'x');
  assert.is(logger.lines.length, 10);
  clock.advance(10_000);
  const summary = logger.lines.find((l) => l.msg.includes('too many sources'));
  assert.ok(summary);
  assert.is(summary!.fields.suppressed, 90);
  // Expired windows are swept, so new sources are logged again.
  log.warn('fresh', {}, 'x');
  assert.ok(logger.lines.some((l) => l.fields.source === 'fresh'));
});

test.run();
