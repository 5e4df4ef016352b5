/**
 * The PoE controller as a box opens it (openHardware, serialport on a pty)
 * against the PoE simulator: a stuck phone is rebooted by extension with a
 * port power-cycle, and the port events tell each step.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SystemClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { boardProfile } from '../../../hw/boards/index.js';
import { createHealthSampler, openHardware } from '../../../hw/hardware.js';
import { PhonePortMap, locatorFromRegistrations } from '../../../hw/poe/phone-port-map.js';
import type { PoeEvent } from '../../../hw/poe/poe-controller.js';
import { PoeSimulator } from '../../../hw/poe/poe-simulator.js';
import { ptyRig, waitFor } from './support/rig.js';

test('a port power-cycle reboots the phone of an extension', async () => {
  const rig = ptyRig();
  const clock = new SystemClock();
  const { path, simLink } = await rig.device('poe', '\n');
  const sim = new PoeSimulator({ link: simLink, clock, ports: 8, budgetMw: 60_000 });
  const base = boardProfile('x86-poe');
  const hw = await openHardware({
    board: { ...base, poe: { ...base.poe!, path }, panel: null, modem: null, watchdog: { kind: 'none' } },
    clock,
    logger: silentLogger(),
  });
  try {
    assert.ok(hw.poe, 'PoE controller opened');
    sim.plug(3, { mac: '00:15:65:aa:bb:03', powerClass: 2, drawMw: 4200, bootMs: 300 });
    sim.plug(6, { mac: '00:15:65:aa:bb:06', powerClass: 3, drawMw: 6100, bootMs: 300 });
    await waitFor(() => sim.status(3).link === 'up' && sim.status(6).link === 'up', 'phones up');
    const events: PoeEvent[] = [];
    hw.poe.onEvent((e) => events.push(e));
    // The registrar says 202 registered from .22; the neighbour table says .22 is port 6's MAC.
    const map = new PhonePortMap(
      hw.poe,
      locatorFromRegistrations({
        registrations: () => [{ extension: '202', sourceIp: '192.0.2.22' }],
        neighbours: () => new Map([['192.0.2.22', '00:15:65:aa:bb:06']]),
      }),
    );
    const phones = (await map.phonePorts()).filter((p) => p.mac);
    assert.equal(
      phones.map((p) => [p.port, p.mac, p.extension, p.drawMw]),
      [
        [3, '00:15:65:aa:bb:03', null, 4200],
        [6, '00:15:65:aa:bb:06', '202', 6100],
      ],
    );
    assert.is(await map.rebootPhone('202', 600), 6);
    // Port 6's events from the cycle on: the EVT of its first link-up (plugged above) may reach the
    // driver after the listener was added, so it is not part of the cycle.
    const cycle = (): string[] => {
      const steps = events.flatMap((e) => (e.type === 'port' && e.status.port === 6 ? [`${e.status.power}/${e.status.link}`] : []));
      const start = steps.indexOf('cycling/down');
      return start < 0 ? [] : steps.slice(start);
    };
    await waitFor(() => cycle().includes('on/up'), 'port 6 back up after the cycle', 5000);
    assert.equal(cycle(), ['cycling/down', 'on/down', 'on/up']);
    assert.is((await hw.poe.port(3)).link, 'up', 'the other phone was not touched');
    // The health sampler reads the budget through the same controller.
    const h = await createHealthSampler(hw, { now: () => clock.now() }).sample();
    assert.equal(h.poe, { usedMw: 10300, maxMw: 60000 });
  } finally {
    await hw.close();
    sim.dispose();
    await rig.close();
  }
});

test.run();
