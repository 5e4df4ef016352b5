import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import type { PoeEvent } from '../../../../hw/poe/poe-controller.js';
import { PhonePortMap } from '../../../../hw/poe/phone-port-map.js';
import { PoeSimulator } from '../../../../hw/poe/poe-simulator.js';
import { openSerialPoeController } from '../../../../hw/poe/serial-poe-controller.js';
import { createMemoryLinkPair } from '../../../../hw/serial/memory-line-link.js';
import { flush, run } from '../support/fake-time.js';

async function rig() {
  const clock = new FakeClock();
  const [host, dev] = createMemoryLinkPair();
  const sim = new PoeSimulator({ link: dev, clock, ports: 4, budgetMw: 30_000 });
  const poe = await openSerialPoeController({ link: host, clock });
  const events: PoeEvent[] = [];
  poe.onEvent((e) => events.push(e));
  return { clock, sim, poe, events };
}

test('info, per-port status, budget', async () => {
  const { clock, sim, poe } = await rig();
  sim.plug(1, { mac: '00:15:65:aa:bb:01', powerClass: 2, drawMw: 4200 });
  sim.plug(3, { mac: '00:15:65:aa:bb:03', powerClass: 3, drawMw: 6100 });
  await run(clock, 500);
  assert.equal(await poe.info(), { ports: 4, budgetMw: 30000, firmware: 'sim-1' });
  const ports = await poe.ports();
  assert.is(ports.length, 4);
  assert.equal(ports[0], { port: 1, enabled: true, link: 'up', power: 'on', powerClass: 2, drawMw: 4200, mac: '00:15:65:aa:bb:01' });
  assert.equal(ports[1], { port: 2, enabled: true, link: 'down', power: 'off', powerClass: null, drawMw: 0, mac: null });
  assert.equal(await poe.budget(), { usedMw: 10300, maxMw: 30000 });
  assert.is((await poe.port(3)).mac, '00:15:65:aa:bb:03');
});

test('disable and enable a port; bad port numbers are refused before the wire', async () => {
  const { clock, sim, poe } = await rig();
  sim.plug(2, { mac: '00:15:65:aa:bb:02', powerClass: 2, drawMw: 4000 });
  await run(clock, 500);
  await poe.setEnabled(2, false);
  assert.equal(await poe.port(2), { port: 2, enabled: false, link: 'down', power: 'off', powerClass: null, drawMw: 0, mac: null });
  await poe.setEnabled(2, true);
  await run(clock, 500);
  assert.is((await poe.port(2)).link, 'up');
  const sent = sim.received.length;
  try {
    await poe.powerCycle(9);
    assert.unreachable('port 9 of 4 accepted');
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_HW_PROTOCOL'));
  }
  assert.is(sim.received.length, sent);
});

test('power cycle: off, link down, back on after the off time, link up after boot; events tell each step', async () => {
  const { clock, sim, poe, events } = await rig();
  sim.plug(1, { mac: '00:15:65:aa:bb:01', powerClass: 2, drawMw: 4200, bootMs: 2000 });
  await run(clock, 2500);
  events.length = 0;
  await poe.powerCycle(1, 3000);
  await flush();
  assert.is((await poe.port(1)).power, 'cycling');
  await run(clock, 3000);
  assert.equal(await poe.port(1), { port: 1, enabled: true, link: 'down', power: 'on', powerClass: 2, drawMw: 4200, mac: null });
  await run(clock, 2000);
  assert.is((await poe.port(1)).link, 'up');
  const seen = events.flatMap((e) => (e.type === 'port' ? [`${e.status.power}/${e.status.link}`] : []));
  assert.equal(seen, ['cycling/down', 'on/down', 'on/up']);
});

test('over-budget event', async () => {
  const { clock, sim, events } = await rig();
  sim.plug(1, { mac: '00:15:65:aa:bb:01', powerClass: 4, drawMw: 25_000 });
  sim.plug(2, { mac: '00:15:65:aa:bb:02', powerClass: 3, drawMw: 7_000 });
  await run(clock, 500);
  const b = events.filter((e) => e.type === 'budget');
  assert.is(b.length, 1);
  assert.equal(b[0], { type: 'budget', budget: { usedMw: 32000, maxMw: 30000 }, over: true });
  sim.unplug(2);
  await flush();
  const b2 = events.filter((e) => e.type === 'budget');
  assert.equal(b2[1], { type: 'budget', budget: { usedMw: 25000, maxMw: 30000 }, over: false });
});

test('phone port map joins MACs to extensions and reboots a phone by extension', async () => {
  const { clock, sim, poe } = await rig();
  sim.plug(2, { mac: '00:15:65:aa:bb:02', powerClass: 2, drawMw: 4000 });
  sim.plug(4, { mac: '00:15:65:aa:bb:04', powerClass: 2, drawMw: 4000 });
  await run(clock, 500);
  const map = new PhonePortMap(poe, { extensionForMac: (mac) => ({ '00:15:65:aa:bb:04': '201' })[mac] ?? null });
  const ports = await map.phonePorts();
  assert.equal(
    ports.map((p) => [p.port, p.extension]),
    [
      [1, null],
      [2, null],
      [3, null],
      [4, '201'],
    ],
  );
  assert.is(await map.rebootPhone('201', 1000), 4);
  assert.ok(sim.received.includes('CYCLE 4 1000'));
  try {
    await map.rebootPhone('999');
    assert.unreachable();
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_HW_PROTOCOL'));
  }
});

test.run();
