import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceSchema } from '../../../../firmware/src/config/device-schema.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { BOARDS, boardNames, boardProfile, interfaceRoles, slotBackendConfig } from '../../../../hw/boards/index.js';
import { createWatchdogDevice } from '../../../../hw/hardware.js';
import { devSimAt } from '../../../../hw/boards/dev-sim.js';

test('the boards the issue names exist; the schema default is one of them', () => {
  for (const n of ['generic', 'rpi4-poe', 'rpi5-poe', 'x86-poe']) assert.is(boardProfile(n).name, n);
  const d = DeviceSchema.parse({ id: 'pgw-1' });
  assert.is(boardProfile(d.board).name, 'generic');
});

test('every board name is accepted by the device schema and is consistent', () => {
  for (const name of boardNames()) {
    assert.ok(DeviceSchema.safeParse({ id: 'pgw-1', board: name }).success, name);
    const b = BOARDS[name]!;
    assert.is(b.name, name);
    for (const dev of [b.panel, b.modem, b.poe]) if (dev) assert.ok(dev.path.startsWith('/'), `${name}: ${dev.path}`);
    if (b.poe) assert.ok(b.poe.ports >= 1 && b.poe.budgetMw > 0);
    if (b.panel) assert.ok(b.panel.cols >= 16 && b.panel.rows >= 2);
    for (const i of Object.values(b.interfaces)) assert.match(i, /^[A-Za-z0-9_.:-]{1,15}$/);
  }
});

test('generic has no front panel, modem or PoE', () => {
  const g = boardProfile('generic');
  assert.is(g.panel, null);
  assert.is(g.modem, null);
  assert.is(g.poe, null);
});

test('an unknown board is a PGW_E_HW_BOARD error naming the known ones', () => {
  try {
    boardProfile('toaster');
    assert.unreachable();
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_HW_BOARD'));
    assert.match((e as Error).message, /rpi4-poe/);
  }
  assert.throws(() => boardProfile('constructor'));
});

test('device.interfaces overrides board defaults one by one', () => {
  assert.equal(interfaceRoles(boardProfile('rpi4-poe'), { hscn: 'eth2' }), { lan: 'eth0', hscn: 'eth2', wan: 'wwan0' });
  assert.equal(interfaceRoles(boardProfile('generic'), undefined), {});
});

test('slot backend configs match hw/slots', () => {
  assert.equal(slotBackendConfig(boardProfile('generic'), { dataDir: '/var/pgw' }), { kind: 'file', root: '/var/pgw/slots-sim', layout: 'image' });
  const g = slotBackendConfig(boardProfile('x86-poe'), { dataDir: '/data' });
  assert.is(g.kind, 'grub');
  const r = slotBackendConfig(boardProfile('rpi4-poe'), { dataDir: '/data' });
  assert.ok(r.kind === 'rpi-tryboot' && r.slots.a.bootPartition === 2 && r.slots.b.bootPartition === 3);
});

test('watchdog device choice follows the board and the environment', () => {
  const x86 = boardProfile('x86-poe');
  assert.is(createWatchdogDevice(x86, {}).device.kind, 'none');
  const s = createWatchdogDevice(x86, { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '20000000' });
  assert.is(s.device.kind, 'systemd');
  assert.is(s.intervalMs, 10_000);
  assert.is(createWatchdogDevice({ ...x86, watchdog: { kind: 'dev', path: '/dev/watchdog' } }, {}).device.kind, 'dev');
  // Under systemd, a board without a watchdog of its own still tells systemd (READY=1, WatchdogSec=).
  const sim = boardProfile('dev-sim');
  assert.is(createWatchdogDevice(sim, {}).device.kind, 'none');
  const n = createWatchdogDevice(sim, { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '4000000' });
  assert.is(n.device.kind, 'systemd');
  assert.is(n.intervalMs, 2000);
  assert.is(createWatchdogDevice(x86, { NOTIFY_SOCKET: '/run/systemd/notify' }).device.kind, 'systemd');
});

test('the dev-sim rig can live in any directory', () => {
  const b = devSimAt('/tmp/rig');
  assert.is(b.name, 'dev-sim');
  assert.is(b.panel?.path, '/tmp/rig/panel');
  assert.is(b.modem?.path, '/tmp/rig/modem');
  assert.is(b.poe?.path, '/tmp/rig/poe');
  assert.is(boardProfile('dev-sim').panel?.path, '/run/pgw-sim/panel');
});

test.run();
