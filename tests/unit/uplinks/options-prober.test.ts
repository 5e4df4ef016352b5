import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OptionsProber, isProbeAnswer, type ProbeOutcome } from '../../../firmware/src/uplinks/options-prober.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';

const flush = () => new Promise((r) => setImmediate(r));

/** A peer whose answers the test decides: each probe is a pending promise. */
function rig(intervalMs = 1000, timeoutMs = 1000, extra: { overdueMs?: number; hurry?: () => boolean } = { overdueMs: 0 }) {
  const clock = new FakeClock();
  const pending: Array<(status: number) => void> = [];
  const outcomes: ProbeOutcome[] = [];
  const prober = new OptionsProber({
    clock,
    intervalMs,
    timeoutMs,
    send: () => new Promise<number>((resolve) => pending.push(resolve)),
    onOutcome: (o) => outcomes.push(o),
    ...extra,
  });
  return { clock, pending, outcomes, prober };
}

test('probes at start and every interval; answers count with their round trip', async () => {
  const { clock, pending, outcomes, prober } = rig();
  prober.start();
  assert.is(pending.length, 1);
  clock.advance(40);
  pending[0]!(200);
  await flush();
  assert.equal(outcomes, [{ ok: true, status: 200, rttMs: 40 }]);
  clock.advance(959);
  assert.is(pending.length, 1);
  clock.advance(1);
  assert.is(pending.length, 2);
  prober.stop();
});

test('no answer within the timeout is a loss; a late answer is ignored', async () => {
  const { clock, pending, outcomes, prober } = rig(1000, 500);
  prober.start();
  clock.advance(500);
  assert.equal(outcomes, [{ ok: false, status: 'timeout' }]);
  pending[0]!(200);
  await flush();
  assert.is(outcomes.length, 1);
  prober.stop();
});

test('408, 503 and 504 are losses; any other final response proves the peer is there', async () => {
  for (const s of [200, 404, 405, 483, 500]) assert.ok(isProbeAnswer(s), String(s));
  for (const s of [100, 408, 503, 504]) assert.not.ok(isProbeAnswer(s), String(s));
  const { pending, outcomes, prober } = rig();
  prober.start();
  pending[0]!(503);
  await flush();
  assert.equal(outcomes, [{ ok: false, status: 503 }]);
  prober.stop();
});

test('a send that throws is a loss; stop() ends the timers', async () => {
  const clock = new FakeClock();
  const outcomes: ProbeOutcome[] = [];
  const prober = new OptionsProber({ clock, intervalMs: 1000, timeoutMs: 1000, send: () => Promise.reject(new Error('no route')), onOutcome: (o) => outcomes.push(o) });
  prober.start();
  await flush();
  assert.equal(outcomes, [{ ok: false, status: 503 }]);
  prober.stop();
  assert.is(clock.pending(), 0);
});

test('probeNow sends at once and restarts the interval', () => {
  const { clock, pending, prober } = rig();
  prober.start();
  clock.advance(300);
  prober.probeNow();
  assert.is(pending.length, 2);
  clock.advance(999);
  assert.is(pending.length, 2);
  clock.advance(1);
  assert.is(pending.length, 3);
  prober.stop();
});

test('an overdue probe is followed by the next at once while hurrying; losses then come a quarter interval apart', async () => {
  let hurry = true;
  const { clock, pending, outcomes, prober } = rig(1000, 1000, { hurry: () => hurry });
  prober.start();
  pending[0]!(200);
  await flush();
  clock.advance(1000); // probe 2 at 1000, never answered
  assert.is(pending.length, 2);
  clock.advance(249);
  assert.is(pending.length, 2);
  clock.advance(1); // 1250: overdue, probe 3
  assert.is(pending.length, 3);
  clock.advance(250); // 1500: probe 3 overdue, probe 4
  assert.is(pending.length, 4);
  clock.advance(500); // 2000: probe 2 lost; 1750 brought probe 5
  assert.is(pending.length, 6, 'probe 5 at 1750, probe 6 at 2000');
  assert.equal(outcomes.slice(1), [{ ok: false, status: 'timeout' }]);
  clock.advance(250); // 2250: probe 3 lost
  assert.equal(outcomes.slice(1).length, 2, 'the second loss a quarter interval after the first');
  hurry = false; // the uplink is down: back to the normal pace
  const before = pending.length;
  clock.advance(1000);
  assert.ok(pending.length - before <= 2, `${pending.length - before} probes in a second once down`);
  prober.stop();
  assert.is(clock.pending(), 0);
});

test('an answered probe is not hurried', async () => {
  const { clock, pending, prober } = rig(1000, 1000, {});
  prober.start();
  pending[0]!(200);
  await flush();
  clock.advance(999);
  assert.is(pending.length, 1);
  prober.stop();
});

test.run();
