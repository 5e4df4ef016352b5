import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { DevWatchdog, systemdWatchdogIntervalMs } from '../../../../hw/watchdog/watchdog-device.js';
import type { WatchdogDevice } from '../../../../hw/watchdog/watchdog-device.js';
import { WatchdogKeeper } from '../../../../hw/watchdog/watchdog-keeper.js';
import { flush, run } from '../support/fake-time.js';

class RecordingDevice implements WatchdogDevice {
  readonly kind = 'dev';
  log: string[] = [];
  petTimes: number[] = [];
  constructor(private readonly clock: FakeClock) {}
  open() {
    this.log.push('open');
    return Promise.resolve();
  }
  pet() {
    this.petTimes.push(this.clock.now());
    return Promise.resolve();
  }
  close(o: { disarm: boolean }) {
    this.log.push(o.disarm ? 'close-disarm' : 'close-armed');
    return Promise.resolve();
  }
}

function rig(health: () => boolean | Promise<boolean>, extra: { startupGraceMs?: number; healthTimeoutMs?: number } = {}) {
  const clock = new FakeClock(0);
  const device = new RecordingDevice(clock);
  const keeper = new WatchdogKeeper({ device, clock, logger: silentLogger(), health, intervalMs: 5000, startupGraceMs: 0, ...extra });
  return { clock, device, keeper };
}

test('pets every interval while healthy', async () => {
  const { clock, device, keeper } = rig(() => true);
  await keeper.start();
  await run(clock, 20_000, 1000);
  assert.equal(device.petTimes, [0, 5000, 10000, 15000, 20000]);
  assert.is(keeper.stats().state, 'petting');
  await keeper.stop();
  assert.equal(device.log, ['open', 'close-disarm']);
});

test('stops petting while health fails, resumes when it holds', async () => {
  let healthy = true;
  const { clock, device, keeper } = rig(() => healthy);
  await keeper.start();
  await run(clock, 5000, 1000);
  healthy = false;
  await run(clock, 15_000, 1000);
  assert.equal(device.petTimes, [0, 5000]);
  assert.is(keeper.stats().state, 'withholding');
  assert.is(keeper.stats().withholdingSince, 10_000);
  assert.is(keeper.stats().lastReason, 'health check failed');
  healthy = true;
  await run(clock, 5000, 1000);
  assert.equal(device.petTimes, [0, 5000, 25_000]);
  assert.is(keeper.stats().state, 'petting');
  await keeper.stop();
});

test('a health check that throws or hangs counts as failing', async () => {
  let mode: 'ok' | 'throw' | 'hang' = 'ok';
  const { clock, device, keeper } = rig(
    () => {
      if (mode === 'throw') throw new Error('store unwritable');
      if (mode === 'hang') return new Promise<boolean>(() => undefined);
      return true;
    },
    { healthTimeoutMs: 1000 },
  );
  await keeper.start();
  mode = 'throw';
  await run(clock, 5000, 500);
  assert.is(keeper.stats().lastReason, 'health check threw: store unwritable');
  mode = 'ok';
  await run(clock, 5000, 500);
  assert.is(keeper.stats().state, 'petting');
  mode = 'hang';
  await run(clock, 6000, 500);
  assert.is(keeper.stats().state, 'withholding');
  assert.is(keeper.stats().lastReason, 'health check did not answer');
  assert.equal(device.petTimes, [0, 10_000]);
  await keeper.stop({ disarm: false });
  assert.equal(device.log, ['open', 'close-armed']);
});

test('start-up grace: pets while not yet healthy, then only while healthy', async () => {
  let healthy = false;
  const { clock, device, keeper } = rig(() => healthy, { startupGraceMs: 12_000 });
  await keeper.start();
  await run(clock, 20_000, 1000);
  // Ticks at 0, 5 s and 10 s are inside the grace; 15 s and 20 s are not.
  assert.equal(device.petTimes, [0, 5000, 10_000]);
  healthy = true;
  await run(clock, 5000, 1000);
  healthy = false;
  await run(clock, 5000, 1000);
  assert.equal(device.petTimes, [0, 5000, 10_000, 25_000]);
});

test('the grace ends early once the gateway has been healthy', async () => {
  let healthy = true;
  const { clock, device, keeper } = rig(() => healthy, { startupGraceMs: 60_000 });
  await keeper.start();
  healthy = false;
  await run(clock, 10_000, 1000);
  assert.equal(device.petTimes, [0]);
  await keeper.stop();
});

test('stop during a pending health check pets no more', async () => {
  let release: (v: boolean) => void = () => undefined;
  const { clock, device, keeper } = rig(() => new Promise<boolean>((r) => (release = r)), { healthTimeoutMs: 4000 });
  const started = keeper.start();
  await flush();
  await keeper.stop();
  release(true);
  await started;
  await run(clock, 10_000, 1000);
  assert.equal(device.petTimes, []);
});

test('/dev/watchdog driver: a byte per pet, magic V on a disarming close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-wd-'));
  try {
    const path = join(dir, 'watchdog');
    writeFileSync(path, '');
    const wd = new DevWatchdog(path);
    await wd.open();
    await wd.pet();
    await wd.pet();
    await wd.close({ disarm: true });
    assert.is(readFileSync(path, 'utf8'), '11V');
    const wd2 = new DevWatchdog(path);
    await wd2.open();
    await wd2.pet();
    await wd2.close({ disarm: false });
    assert.is(readFileSync(path, 'utf8'), '1');
    try {
      await new DevWatchdog(join(dir, 'missing', 'watchdog')).open();
      assert.unreachable();
    } catch (e) {
      assert.is((e as { code?: string }).code, 'PGW_E_HW_IO');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('systemd interval is half of WATCHDOG_USEC, and only for this PID', () => {
  assert.is(systemdWatchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42), 15_000);
  assert.is(systemdWatchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000);
  assert.is(systemdWatchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42), null);
  assert.is(systemdWatchdogIntervalMs({}, 42), null);
});

test.run();
