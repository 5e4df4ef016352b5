import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HEALTH_TRANSITIONS, UplinkHealth, type HealthChange } from '../../../firmware/src/uplinks/uplink-health.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';

function machine(failAfter = 2, recoverAfterMs = 30_000) {
  const changes: HealthChange[] = [];
  const h = new UplinkHealth({ failAfter, recoverAfterMs }, (c) => changes.push(c));
  const log = () => changes.map((c) => `${c.to}:${c.reason}`);
  return { h, changes, log };
}

test('the first answer makes a new uplink up at once (no hysteresis at start)', () => {
  const { h, log } = machine();
  assert.is(h.state, 'unknown');
  assert.is(h.usable, false);
  h.probeAnswered(0);
  assert.is(h.state, 'up');
  assert.ok(h.usable);
  assert.equal(log(), ['up:first-answer']);
});

test('one lost probe is suspect and still usable; failAfter in a row is down', () => {
  const { h, log } = machine(3);
  h.probeAnswered(0);
  h.probeLost();
  assert.is(h.state, 'suspect');
  assert.ok(h.usable);
  h.probeAnswered(1000);
  assert.is(h.state, 'up');
  h.probeLost();
  h.probeLost();
  assert.is(h.state, 'suspect');
  h.probeLost();
  assert.is(h.state, 'down');
  assert.not.ok(h.usable);
  assert.equal(log(), ['up:first-answer', 'suspect:probe-lost', 'up:answering', 'suspect:probe-lost', 'down:probes-lost']);
});

test('failAfter 1 goes straight down; a dead uplink at start goes down too', () => {
  const one = machine(1);
  one.h.probeAnswered(0);
  one.h.probeLost();
  assert.is(one.h.state, 'down');
  const never = machine(2);
  never.h.probeLost();
  never.h.probeLost();
  assert.is(never.h.state, 'down');
});

test('recovery needs good probes for recoverAfterMs; one loss on the way starts it again', () => {
  const clock = new FakeClock();
  const { h, log } = machine(2, 30_000);
  h.probeAnswered(clock.monotonic());
  h.probeLost();
  h.probeLost();
  assert.is(h.state, 'down');
  clock.advance(5_000);
  h.probeAnswered(clock.monotonic());
  assert.is(h.state, 'recovering');
  assert.not.ok(h.usable, 'not carrying calls while it proves itself');
  clock.advance(20_000);
  h.probeAnswered(clock.monotonic());
  assert.is(h.state, 'recovering');
  h.probeLost();
  assert.is(h.state, 'down', 'a loss while recovering sends it back down');
  clock.advance(1_000);
  h.probeAnswered(clock.monotonic());
  const since = clock.monotonic();
  for (let i = 0; i < 29; i++) {
    clock.advance(1_000);
    h.probeAnswered(clock.monotonic());
    assert.is(h.state, 'recovering', `after ${clock.monotonic() - since} ms`);
  }
  clock.advance(1_000);
  h.probeAnswered(clock.monotonic());
  assert.is(h.state, 'up');
  assert.equal(log().slice(-4), ['recovering:answering', 'down:probe-lost', 'recovering:answering', 'up:recovered']);
});

test('recoverAfterMs 0 comes back on the first answer', () => {
  const { h } = machine(2, 0);
  h.probeAnswered(0);
  h.linkDown();
  h.linkRestored();
  h.probeAnswered(1);
  assert.is(h.state, 'up');
});

test('link down fails at once from any state; answers while it is down are ignored; link up waits for a probe', () => {
  const { h, log } = machine(5, 10_000);
  h.probeAnswered(0);
  h.linkDown();
  assert.is(h.state, 'down');
  h.linkDown();
  h.probeAnswered(100);
  assert.is(h.state, 'down', 'a late answer that crossed the link going down does not count');
  h.linkRestored();
  assert.is(h.state, 'down');
  h.probeAnswered(200);
  assert.is(h.state, 'recovering');
  h.linkDown();
  assert.is(h.state, 'down');
  assert.equal(log(), ['up:first-answer', 'down:link-down', 'recovering:answering', 'down:link-down']);
});

test('every transition taken is in the table, and the table is closed', () => {
  const states = Object.keys(HEALTH_TRANSITIONS);
  for (const targets of Object.values(HEALTH_TRANSITIONS)) for (const t of targets) assert.ok(states.includes(t), t);
  assert.throws(() => new UplinkHealth({ failAfter: 0, recoverAfterMs: 0 }), /failAfter/);
});

test.run();
