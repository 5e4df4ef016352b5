import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { healthTelemetrySource, type HardwareTelemetrySample } from '../../../firmware/src/wiring/hardware-telemetry.js';
import { HealthMonitor } from '../../../hw/health/health-monitor.js';
import { HealthSampler, type SystemInfoApi } from '../../../hw/health/health-sampler.js';
import { ModemMonitor } from '../../../hw/modem/modem-monitor.js';
import { ModemSimulator } from '../../../hw/modem/modem-simulator.js';
import { createMemoryLinkPair } from '../../../hw/serial/memory-line-link.js';
import { until } from '../hw/support/fake-time.js';

function countingSi(counter: { n: number }): SystemInfoApi {
  return {
    currentLoad: () => {
      counter.n++;
      return Promise.resolve({ currentLoad: 23.45 });
    },
    cpuTemperature: () => Promise.resolve({ main: 48.2 }),
    mem: () => Promise.resolve({ total: 4_000, available: 1_000 }),
    fsSize: () => Promise.resolve([{ mount: '/data', size: 1000, used: 600, available: 350, use: 63.2 }]),
    networkInterfaces: () =>
      Promise.resolve([
        { iface: 'lo', operstate: 'unknown', mac: '', ip4: '127.0.0.1', ip6: '', internal: true },
        { iface: 'eth1', operstate: 'up', mac: '02:00:00:00:00:02', ip4: '10.1.1.2', ip6: '', internal: false, speed: 1000 },
        { iface: 'wwan0', operstate: 'unknown', mac: '', ip4: '', ip6: '', internal: false, speed: -1 },
      ]),
  };
}

test('telemetry comes from the health monitor: no second sample while it is fresh; fan, PoE and modem included', async () => {
  const clock = new FakeClock();
  const samples = { n: 0 };
  const health = new HealthMonitor({
    sampler: new HealthSampler({
      now: () => clock.now(),
      si: countingSi(samples),
      interfaceRoles: { eth1: 'hscn', wwan0: 'wan' },
      readFanRpm: () => Promise.resolve(2400),
      readPoeBudget: () => Promise.resolve({ usedMw: 42_000, maxMw: 120_000 }),
    }),
    clock,
    logger: silentLogger(),
    intervalMs: 30_000,
  });
  const [host, dev] = createMemoryLinkPair();
  const sim = new ModemSimulator({ link: dev, clock, rebootMs: 200 });
  const modem = new ModemMonitor({ openLink: () => Promise.resolve(host), clock, logger: silentLogger(), pollIntervalMs: 1000, commandTimeoutMs: 300 });
  modem.start();
  await until(clock, () => modem.linkHealth().up, 5000);
  await health.start();
  assert.is(samples.n, 1);

  const source = healthTelemetrySource({
    latest: () => health.latest(),
    sampleNow: () => health.sampleNow(),
    now: () => clock.now(),
    modem: () => ({ health: modem.linkHealth(), status: modem.status() }),
    load1: () => 0.456,
    uptimeSeconds: () => 1234.4,
  });
  const t = (await source.sample()) as HardwareTelemetrySample;
  assert.is(samples.n, 1, 'the fresh health sample is reused, not sampled again');
  assert.equal(t.cpu, { loadPercent: 23.5, load1: 0.46, temperatureC: 48.2 });
  assert.equal(t.memory, { totalBytes: 4000, usedBytes: 3000, availableBytes: 1000 });
  assert.equal(t.disks, [{ mount: '/data', sizeBytes: 1000, usedBytes: 600, availableBytes: 350, usePercent: 63.2 }]);
  assert.equal(t.interfaces, [
    { name: 'eth1', state: 'up', speedMbps: 1000, role: 'hscn' },
    { name: 'wwan0', state: 'unknown', speedMbps: null, role: 'wan' },
  ]);
  assert.is(t.uptimeSeconds, 1234);
  assert.is(t.fanRpm, 2400);
  assert.equal(t.poe, { usedMw: 42_000, maxMw: 120_000 });
  assert.equal(t.modem, {
    up: true,
    reason: 'ok',
    signalBars: modem.linkHealth().signalBars,
    rssiDbm: modem.linkHealth().rssiDbm,
    rsrpDbm: modem.status().signal.rsrp,
    sinrDb: modem.status().signal.sinrDb,
    tech: modem.linkHealth().tech,
    operator: 'EE',
    dataPath: 'unknown',
    resets: 0,
  });
  assert.ok(t.modem!.signalBars > 0);

  // The modem loses its signal: the next telemetry says so.
  sim.loseSignal();
  await until(clock, () => !modem.linkHealth().up, 20_000);
  const down = (await source.sample()) as HardwareTelemetrySample;
  assert.is(down.modem?.up, false);
  assert.is.not(down.modem?.reason, 'ok');

  // A stale health sample (the monitor stopped) is taken again once, through the monitor.
  health.stop();
  const before = samples.n;
  clock.advance(120_000);
  await source.sample();
  assert.is(samples.n, before + 1);
  health.stop();
  await modem.stop();
  sim.dispose();
});

test('a board without fan, PoE or modem sends nulls, and zeros before any sample', async () => {
  const source = healthTelemetrySource({ latest: () => null, sampleNow: () => Promise.resolve(null), now: () => 0, modem: () => null, load1: () => NaN, uptimeSeconds: () => 5 });
  const t = (await source.sample()) as HardwareTelemetrySample;
  assert.equal(t, {
    cpu: { loadPercent: null, load1: null, temperatureC: null },
    memory: { totalBytes: 0, usedBytes: 0, availableBytes: 0 },
    disks: [],
    interfaces: [],
    uptimeSeconds: 5,
    fanRpm: null,
    poe: null,
    modem: null,
  });
});

test.run();
