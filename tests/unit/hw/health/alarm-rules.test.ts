import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AlarmEvaluator } from '../../../../hw/health/alarm-rules.js';
import type { HealthSnapshot } from '../../../../hw/health/health-sampler.js';

function snap(over: { temp?: number | null; freePct?: number; poeUsed?: number; fan?: number | null; at?: number } = {}): HealthSnapshot {
  const size = 1000;
  return {
    at: over.at ?? 0,
    cpu: { loadPercent: 5, temperatureC: over.temp === undefined ? 50 : over.temp },
    memory: { totalBytes: 1, availableBytes: 1 },
    disks: [{ mount: '/data', sizeBytes: size, usedBytes: size - ((over.freePct ?? 50) / 100) * size, availableBytes: ((over.freePct ?? 50) / 100) * size, usePercent: 100 - (over.freePct ?? 50) }],
    interfaces: [],
    fanRpm: over.fan === undefined ? null : over.fan,
    poe: over.poeUsed === undefined ? null : { usedMw: over.poeUsed, maxMw: 100_000 },
  };
}

const names = (evts: Array<{ alarm: string; state: string }>) => evts.map((e) => `${e.alarm}:${e.state}`);

test('temperature: raised after two hot samples, not cleared until below the clear threshold', () => {
  const ev = new AlarmEvaluator();
  assert.equal(names(ev.evaluate(snap({ temp: 76 }))), []);
  assert.equal(names(ev.evaluate(snap({ temp: 74 }))), []);
  assert.equal(names(ev.evaluate(snap({ temp: 76 }))), []);
  assert.equal(names(ev.evaluate(snap({ temp: 77, at: 5 }))), ['temperature-high:raised']);
  assert.equal(ev.active(), [{ alarm: 'temperature-high', severity: 'warning', message: 'CPU 77C', since: 5 }]);
  // Hovering between clear (70) and raise (75) keeps it raised: no flapping.
  assert.equal(names(ev.evaluate(snap({ temp: 72 }))), []);
  assert.equal(names(ev.evaluate(snap({ temp: 74 }))), []);
  assert.equal(names(ev.evaluate(snap({ temp: 70 }))), ['temperature-high:cleared']);
  assert.equal(ev.active(), []);
});

test('critical temperature is raised at once', () => {
  const ev = new AlarmEvaluator();
  assert.equal(names(ev.evaluate(snap({ temp: 86 }))), ['temperature-critical:raised']);
  assert.equal(names(ev.evaluate(snap({ temp: 86 }))), ['temperature-high:raised']);
  assert.equal(names(ev.evaluate(snap({ temp: 78 }))), []);
  assert.equal(names(ev.evaluate(snap({ temp: 74 }))), ['temperature-critical:cleared']);
});

test('no sensor: no alarm, no change', () => {
  const ev = new AlarmEvaluator();
  ev.evaluate(snap({ temp: 90 }));
  ev.evaluate(snap({ temp: null }));
  assert.equal(ev.active().map((a) => a.alarm), ['temperature-critical']);
});

test('disk low with hysteresis; falls back to / when there is no /data', () => {
  const ev = new AlarmEvaluator();
  assert.equal(names(ev.evaluate(snap({ freePct: 9 }))), ['disk-low:raised']);
  assert.equal(names(ev.evaluate(snap({ freePct: 12 }))), []);
  assert.equal(names(ev.evaluate(snap({ freePct: 16 }))), ['disk-low:cleared']);
  const s = snap({ freePct: 5 });
  s.disks = [{ ...s.disks[0]!, mount: '/' }];
  assert.equal(names(new AlarmEvaluator().evaluate(s)), ['disk-low:raised']);
});

test('PoE budget and fan', () => {
  const ev = new AlarmEvaluator();
  assert.equal(names(ev.evaluate(snap({ poeUsed: 91_000 }))), ['poe-budget:raised']);
  assert.equal(names(ev.evaluate(snap({ poeUsed: 85_000 }))), []);
  assert.equal(names(ev.evaluate(snap({ poeUsed: 79_000 }))), ['poe-budget:cleared']);
  assert.equal(names(ev.evaluate(snap({ fan: 0 }))), []);
  assert.equal(names(ev.evaluate(snap({ fan: 0 }))), []);
  assert.equal(names(ev.evaluate(snap({ fan: 0 }))), ['fan-stopped:raised']);
  assert.equal(names(ev.evaluate(snap({ fan: 600 }))), []);
  assert.equal(names(ev.evaluate(snap({ fan: 1200 }))), ['fan-stopped:cleared']);
});

test.run();
