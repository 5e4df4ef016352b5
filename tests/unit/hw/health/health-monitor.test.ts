import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import type { HealthAlarmEvent } from '../../../../hw/health/alarm-rules.js';
import { HealthMonitor } from '../../../../hw/health/health-monitor.js';
import { HealthSampler, hwmonFanReader } from '../../../../hw/health/health-sampler.js';
import type { SystemInfoApi } from '../../../../hw/health/health-sampler.js';
import { run } from '../support/fake-time.js';

function fakeSi(state: { temp: number | null; fail?: boolean }): SystemInfoApi {
  return {
    currentLoad: () => Promise.resolve({ currentLoad: 12.345 }),
    cpuTemperature: () => (state.fail ? Promise.reject(new Error('no sensor')) : Promise.resolve({ main: state.temp })),
    mem: () => Promise.resolve({ total: 4_000, available: 3_000 }),
    fsSize: () =>
      Promise.resolve([
        { mount: '/', size: 1000, used: 450, available: 500, use: 50 },
        { mount: '/data', size: 1000, available: 80, use: 92 },
        { mount: '/proc', size: 0, available: 0, use: 0 },
      ]),
    networkInterfaces: () =>
      Promise.resolve([
        { iface: 'lo', operstate: 'unknown', mac: '', ip4: '127.0.0.1', ip6: '::1', internal: true },
        { iface: 'eth0', operstate: 'up', mac: '02:00:00:00:00:01', ip4: '192.0.2.10', ip6: '', internal: false, speed: 1000 },
      ]),
  };
}

test('sampler shapes systeminformation, tags roles, tolerates a missing sensor', async () => {
  const state = { temp: 51.26 as number | null, fail: false };
  const sampler = new HealthSampler({ now: () => 7, si: fakeSi(state), interfaceRoles: { eth0: 'lan' }, readPoeBudget: () => Promise.resolve({ usedMw: 5, maxMw: 10 }) });
  const s = await sampler.sample();
  assert.equal(s.cpu, { loadPercent: 12.3, temperatureC: 51.3 });
  assert.equal(s.disks.map((d) => d.mount), ['/', '/data']);
  assert.equal(s.interfaces, [{ name: 'eth0', state: 'up', mac: '02:00:00:00:00:01', addresses: ['192.0.2.10'], speedMbps: 1000, role: 'lan' }]);
  // Used as the file system says (reserved blocks make it differ from size - available), else size - available.
  assert.equal(s.disks.map((d) => d.usedBytes), [450, 920]);
  assert.equal(s.poe, { usedMw: 5, maxMw: 10 });
  assert.is(s.fanRpm, null);
  state.fail = true;
  assert.is((await sampler.sample()).cpu.temperatureC, null);
  state.fail = false;
  state.temp = -1;
  assert.is((await sampler.sample()).cpu.temperatureC, null);
});

test('the real systeminformation answers on this machine', async () => {
  const s = await new HealthSampler({ now: () => 0 }).sample();
  assert.ok(s.memory.totalBytes > 0);
  assert.ok(s.disks.length > 0);
});

test('monitor samples on the clock and emits alarms once', async () => {
  const clock = new FakeClock();
  const state = { temp: 60 as number | null };
  const monitor = new HealthMonitor({
    sampler: new HealthSampler({ now: () => clock.now(), si: fakeSi(state) }),
    clock,
    logger: silentLogger(),
    intervalMs: 10_000,
  });
  const alarms: HealthAlarmEvent[] = [];
  monitor.onAlarm((e) => alarms.push(e));
  await monitor.start();
  // /data is 8 % free: disk-low at once.
  assert.equal(alarms.map((a) => `${a.alarm}:${a.state}`), ['disk-low:raised']);
  state.temp = 80;
  await run(clock, 20_000, 1000);
  assert.equal(alarms.map((a) => `${a.alarm}:${a.state}`), ['disk-low:raised', 'temperature-high:raised']);
  assert.equal(monitor.alarms().map((a) => a.alarm).sort(), ['disk-low', 'temperature-high']);
  assert.is(monitor.latest()?.cpu.temperatureC, 80);
  monitor.stop();
  state.temp = 20;
  await run(clock, 30_000, 1000);
  assert.is(monitor.latest()?.cpu.temperatureC, 80);
});

test('hwmon fan reader finds the fan by name', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pgw-hwmon-'));
  try {
    mkdirSync(join(root, 'hwmon0'));
    writeFileSync(join(root, 'hwmon0', 'name'), 'cpu_thermal\n');
    mkdirSync(join(root, 'hwmon1'));
    writeFileSync(join(root, 'hwmon1', 'name'), 'pwmfan\n');
    writeFileSync(join(root, 'hwmon1', 'fan1_input'), '3120\n');
    assert.is(await hwmonFanReader('pwmfan', root)(), 3120);
    assert.is(await hwmonFanReader('nct6775', root)(), null);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
