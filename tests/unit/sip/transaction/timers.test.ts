import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '../../../../firmware/src/sip/transaction/timers.js';

test('RFC 3261 Table 4 defaults, with L and M from RFC 6026', () => {
  assert.is(T.T1, 500);
  assert.is(T.T2, 4000);
  assert.is(T.T4, 5000);
  assert.is(T.TIMER_A, 500);
  assert.is(T.TIMER_B, 32_000);
  assert.is(T.TIMER_D, 32_000);
  assert.is(T.TIMER_E, 500);
  assert.is(T.TIMER_F, 32_000);
  assert.is(T.TIMER_G, 500);
  assert.is(T.TIMER_H, 32_000);
  assert.is(T.TIMER_I, 5000);
  assert.is(T.TIMER_J, 32_000);
  assert.is(T.TIMER_K, 5000);
  assert.is(T.TIMER_L, 32_000);
  assert.is(T.TIMER_M, 32_000);
  assert.is(T.TIMER_100_TRYING, 200);
});

test('reliable transports: D, I, J, K are zero; the rest are unchanged', () => {
  const u = T.timerValues({}, false);
  const r = T.timerValues({}, true);
  for (const k of ['D', 'I', 'J', 'K'] as const) {
    assert.ok(u[k] > 0, k);
    assert.is(r[k], 0, k);
  }
  for (const k of ['A', 'B', 'E', 'F', 'G', 'H', 'L', 'M'] as const) assert.is(r[k], u[k], k);
});

test('other T1/T2/T4 scale the 64*T1 timers; D stays at least 32 s', () => {
  const v = T.timerValues({ T1: 1000, T2: 8000, T4: 10_000 });
  assert.is(v.B, 64_000);
  assert.is(v.F, 64_000);
  assert.is(v.H, 64_000);
  assert.is(v.J, 64_000);
  assert.is(v.L, 64_000);
  assert.is(v.M, 64_000);
  assert.is(v.I, 10_000);
  assert.is(v.K, 10_000);
  assert.is(v.D, 32_000);
  assert.is(T.timerValues({ T1: 50 }).D, 32_000);
});

test.run();
