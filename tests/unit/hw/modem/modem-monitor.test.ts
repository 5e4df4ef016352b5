import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { ModemMonitor } from '../../../../hw/modem/modem-monitor.js';
import type { ModemMonitorOptions } from '../../../../hw/modem/modem-monitor.js';
import { ModemSimulator } from '../../../../hw/modem/modem-simulator.js';
import { createMemoryLinkPair } from '../../../../hw/serial/memory-line-link.js';
import type { LinkHealth } from '../../../../hw/modem/link-health.js';
import { run, until } from '../support/fake-time.js';

function rig(extra: Partial<ModemMonitorOptions> = {}) {
  const clock = new FakeClock();
  const [host, dev] = createMemoryLinkPair();
  const sim = new ModemSimulator({ link: dev, clock, rebootMs: 200 });
  const monitor = new ModemMonitor({
    openLink: () => Promise.resolve(host),
    clock,
    logger: silentLogger(),
    pollIntervalMs: 1000,
    commandTimeoutMs: 300,
    settleMs: 5000,
    powerCycle: () => {
      sim.powerCycle();
      return Promise.resolve();
    },
    ...extra,
  });
  const health: LinkHealth[] = [];
  monitor.onLinkHealth((h) => health.push(h));
  return { clock, sim, monitor, health };
}

test('comes up: SIM, signal, registration, operator, attach; link up', async () => {
  const { clock, sim, monitor } = rig({ servingCell: true });
  monitor.start();
  await until(clock, () => monitor.linkHealth().up, 3000);
  const s = monitor.status();
  assert.is(s.phase, 'ready');
  assert.is(s.sim, 'ready');
  assert.is(s.registration, 'home');
  assert.is(s.operator, 'EE');
  assert.is(s.tech, 'LTE');
  assert.is(s.attached, true);
  assert.is(s.signal.rssiDbm, -69);
  assert.is(s.signal.rsrp, -92);
  assert.is(s.signal.bars, 3);
  assert.is(s.servingCell?.mcc, 234);
  // The handshake turned echo off and asked for registration URCs.
  assert.ok(sim.received.includes('ATE0'));
  assert.ok(sim.received.includes('AT+CEREG=2'));
  assert.is(sim.echo, false);
  await monitor.stop();
  assert.is(monitor.linkHealth().reason, 'stopped');
});

test('signal loss is seen from the URC before the next poll, and recovery after it', async () => {
  const { clock, sim, monitor, health } = rig({ pollIntervalMs: 60_000 });
  monitor.start();
  await until(clock, () => monitor.linkHealth().up, 3000);
  sim.loseSignal();
  // No poll is due for a minute: only the +CEREG URC can have told the monitor.
  await run(clock, 100);
  assert.is(monitor.linkHealth().up, false);
  assert.is(monitor.status().registration, 'searching');
  assert.is(monitor.linkHealth().reason, 'not-registered');
  await run(clock, 60_000, 1000);
  assert.is(monitor.linkHealth().reason, 'no-signal');
  sim.restoreSignal();
  await until(clock, () => monitor.linkHealth().up, 61_000, 1000);
  assert.equal(
    health.map((h) => h.reason),
    // Registration comes back (URC) a moment before the next poll sees the attach.
    ['ok', 'not-registered', 'no-signal', 'not-attached', 'ok'],
  );
  await monitor.stop();
});

test('a wedged modem is found unresponsive and power-cycled, then comes back', async () => {
  const { clock, sim, monitor } = rig();
  monitor.start();
  await until(clock, () => monitor.linkHealth().up, 3000);
  sim.wedge();
  await until(clock, () => monitor.status().phase === 'resetting', 10_000);
  assert.is(monitor.linkHealth().up, false);
  await until(clock, () => monitor.linkHealth().up, 30_000);
  assert.is(sim.resets, 1);
  assert.is(monitor.status().resets, 1);
  assert.is(monitor.status().lastReset?.reason, 'unresponsive');
  await monitor.stop();
});

test('attached but dead: reset by AT+CFUN=1,1 after deadAfter failed probes, RDY brings it back', async () => {
  let probes = 0;
  // The probe stands in for "can I reach the trunk over wwan0?".
  const box: { sim?: ModemSimulator } = {};
  const r = rig({
    deadAfter: 3,
    dataProbe: () => {
      probes++;
      return Promise.resolve(box.sim!.dataPathWorks);
    },
  });
  box.sim = r.sim;
  const { clock, sim, monitor } = r;
  monitor.start();
  await until(clock, () => monitor.status().dataPath === 'ok', 3000);
  sim.breakDataPath();
  const before = probes;
  await until(clock, () => monitor.status().phase === 'resetting', 10_000);
  assert.is(probes - before, 3);
  assert.ok(sim.received.includes('AT+CFUN=1,1'));
  // The simulator's RDY comes after 200 ms, long before settleMs (5 s).
  const t = await until(clock, () => monitor.linkHealth().up, 5000);
  assert.ok(t < 2000, `back after ${t} ms`);
  assert.is(monitor.status().dataPath, 'ok');
  assert.is(monitor.status().lastReset?.reason, 'attached but no data');
  await monitor.stop();
});

test('with probeIntervalMs the data probe runs on its own timer: a dead path is found between polls', async () => {
  const probeTimes: number[] = [];
  const box: { sim?: ModemSimulator } = {};
  const r = rig({
    deadAfter: 3,
    pollIntervalMs: 15_000,
    probeIntervalMs: 1000,
    dataProbe: () => {
      probeTimes.push(r.clock.now());
      return Promise.resolve(box.sim!.dataPathWorks);
    },
  });
  box.sim = r.sim;
  const { clock, sim, monitor } = r;
  monitor.start();
  await until(clock, () => monitor.status().dataPath === 'ok', 3000);
  sim.breakDataPath();
  const broke = clock.now();
  const t = await until(clock, () => monitor.status().phase === 'resetting', 10_000);
  // Three failed probes a second apart, well inside one 15 s poll period.
  assert.ok(t <= 3500, `reset after ${t} ms`);
  assert.is(monitor.linkHealth().up, false);
  assert.ok(sim.received.includes('AT+CFUN=1,1'));
  const after = probeTimes.filter((x) => x > broke);
  assert.is(after.length, 3);
  for (let i = 1; i < after.length; i++) assert.ok(after[i]! - after[i - 1]! >= 1000 && after[i]! - after[i - 1]! < 1500, `probe gap ${after[i]! - after[i - 1]!}`);
  await until(clock, () => monitor.linkHealth().up, 5000);
  await monitor.stop();
});

test('resets back off exponentially while the data path stays dead', async () => {
  const resetsAt: number[] = [];
  const r = rig({ deadAfter: 2, dataProbe: () => Promise.resolve(false), resetBackoffMinMs: 60_000, resetBackoffMaxMs: 240_000 });
  r.monitor.onChange((s) => {
    if (s.phase === 'resetting' && resetsAt.length < s.resets) resetsAt.push(r.clock.now());
  });
  r.monitor.start();
  await run(r.clock, 600_000, 250);
  const gaps = resetsAt.slice(1).map((t, i) => t - resetsAt[i]!);
  assert.ok(resetsAt.length >= 4, `resets: ${resetsAt.length}`);
  assert.ok(gaps[0]! >= 60_000 && gaps[0]! < 65_000, `first gap ${gaps[0]}`);
  assert.ok(gaps[1]! >= 120_000 && gaps[1]! < 125_000, `second gap ${gaps[1]}`);
  assert.ok(gaps[2]! >= 240_000 && gaps[2]! < 245_000, `third gap ${gaps[2]} (capped)`);
  await r.monitor.stop();
});

test('no SIM: link down with reason no-sim, no reset', async () => {
  const { clock, sim, monitor } = rig();
  sim.sim = 'absent';
  monitor.start();
  await run(clock, 5000);
  assert.is(monitor.status().phase, 'ready');
  assert.is(monitor.status().sim, 'absent');
  assert.is(monitor.linkHealth().reason, 'no-sim');
  assert.is(sim.resets, 0);
  await monitor.stop();
});

test('a port that cannot be opened leaves the monitor unresponsive, not crashed', async () => {
  const clock = new FakeClock();
  let opens = 0;
  const monitor = new ModemMonitor({
    openLink: () => {
      opens++;
      return Promise.reject(new Error('ENOENT'));
    },
    clock,
    logger: silentLogger(),
    pollIntervalMs: 1000,
    resetBackoffMinMs: 60_000,
  });
  monitor.start();
  await run(clock, 40_000, 500);
  // One reset (nothing to reset but the phase), then tries every poll while the backoff holds.
  assert.is(monitor.status().resets, 1);
  assert.ok(opens >= 5, `opens ${opens}`);
  assert.is(monitor.status().phase, 'unresponsive');
  assert.is(monitor.linkHealth().up, false);
  await monitor.stop();
});

test.run();
