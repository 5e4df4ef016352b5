import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digitToEvent, eventToDigit, parseTelephoneEvent, writeTelephoneEvent } from '../../../../firmware/src/media/rtp/telephone-event.js';

test('RFC 4733 §2.3 layout', () => {
  // '#' (11), end bit, volume 10, duration 1280
  const bytes = writeTelephoneEvent({ event: 11, end: true, volume: 10, duration: 1280 });
  assert.equal([...bytes], [11, 0x80 | 10, 0x05, 0x00]);
  assert.equal(parseTelephoneEvent(bytes), { event: 11, end: true, volume: 10, duration: 1280 });
  assert.equal(parseTelephoneEvent(Uint8Array.from([5, 0x3f, 0, 160])), { event: 5, end: false, volume: 63, duration: 160 });
  assert.is(parseTelephoneEvent(Uint8Array.from([1, 2, 3])), null);
  // The R bit is ignored on receipt.
  assert.is(parseTelephoneEvent(Uint8Array.from([1, 0x40 | 7, 0, 0]))!.volume, 7);
});

test('digits map to events', () => {
  assert.equal(['1', '*', '#', 'a', 'D', 'flash'].map((d) => digitToEvent(d)), [1, 10, 11, 12, 15, 16]);
  assert.is(digitToEvent('x'), null);
  assert.is(digitToEvent('12'), null);
  for (let e = 0; e <= 16; e++) assert.is(digitToEvent(eventToDigit(e)!), e);
  assert.is(eventToDigit(99), null);
});

test('writer checks ranges', () => {
  assert.throws(() => writeTelephoneEvent({ event: 1, end: false, volume: 64, duration: 0 }));
  assert.throws(() => writeTelephoneEvent({ event: 1, end: false, volume: 0, duration: 70000 }));
});

test.run();
