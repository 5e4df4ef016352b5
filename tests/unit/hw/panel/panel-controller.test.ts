import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { PanelController, type FactoryResetOutcome } from '../../../../hw/panel/panel-controller.js';
import type { PanelSnapshot } from '../../../../hw/panel/panel-pages.js';
import { PanelSimulator } from '../../../../hw/panel/panel-simulator.js';
import { openSerialFrontPanel, parsePanelHello } from '../../../../hw/panel/serial-front-panel.js';
import { createMemoryLinkPair } from '../../../../hw/serial/memory-line-link.js';
import { flush, run } from '../support/fake-time.js';

function snapshot(over: Partial<PanelSnapshot> = {}): PanelSnapshot {
  return {
    deviceId: 'pgw-0001',
    mode: 'normal',
    uplinks: [{ name: 'cloud', state: 'up' }],
    registrations: 4,
    activeCalls: 1,
    addresses: [{ name: 'eth0', role: 'lan', address: '192.0.2.10' }],
    alarms: [],
    ota: null,
    claimCode: null,
    ...over,
  };
}

async function rig(cols = 20, rows = 4) {
  const clock = new FakeClock();
  const [host, dev] = createMemoryLinkPair();
  const sim = new PanelSimulator({ link: dev, cols, rows });
  const panel = await openSerialFrontPanel({ link: host, clock });
  let state = snapshot();
  const resets: number[] = [];
  let outcome: () => Promise<FactoryResetOutcome> = () => Promise.resolve({ outcome: 'erased', claimCode: 'ABCD-EFGH' });
  const controller = new PanelController({
    panel,
    clock,
    logger: silentLogger(),
    snapshot: () => state,
    onFactoryReset: () => {
      resets.push(clock.now());
      return outcome();
    },
    refreshMs: 1000,
    holdMs: 5000,
    confirmWindowMs: 15_000,
    homeAfterMs: 60_000,
  });
  return {
    clock,
    sim,
    panel,
    controller,
    resets,
    outcome(f: () => Promise<FactoryResetOutcome>) {
      outcome = f;
    },
    set(over: Partial<PanelSnapshot>) {
      state = snapshot(over);
    },
    async press(holdMs = 100) {
      await sim.pressButton();
      await run(clock, holdMs, 50);
      await sim.releaseButton();
      await flush();
      await controller.idle();
      await flush();
    },
  };
}

test('HELLO gives the size; bad answers are refused', () => {
  assert.equal(parsePanelHello('PANEL 16x2 v1.2'), { cols: 16, rows: 2, firmware: 'v1.2' });
  assert.is(parsePanelHello('PANEL 99x9 x'), null);
  assert.is(parsePanelHello('HELLO'), null);
});

test('paints the home page and LED; only changed rows are sent', async () => {
  const r = await rig();
  assert.is(r.panel.cols, 20);
  await r.controller.start();
  await flush();
  assert.equal(r.sim.screen(), ['NORMAL', 'Cloud             up', 'Regs 4 Calls 1', 'pgw-0001']);
  assert.equal(r.sim.led, { colour: 'green', mode: 'solid' });
  const sent = r.sim.received.length;
  r.set({ activeCalls: 2 });
  await run(r.clock, 1000);
  const newer = r.sim.received.slice(sent);
  assert.equal(newer, ['TXT 2 Regs 4 Calls 2      ']);
  await r.controller.stop();
});

test('short presses page through; idle returns home', async () => {
  const r = await rig();
  await r.controller.start();
  await r.press();
  assert.is(r.controller.currentPage, 'uplinks');
  assert.is(r.sim.screen()[0], 'UPLINKS');
  await r.press();
  await r.press();
  assert.is(r.controller.currentPage, 'network');
  assert.equal(r.sim.screen().slice(0, 2), ['NETWORK', 'lan       192.0.2.10']);
  await run(r.clock, 61_000, 1000);
  assert.is(r.controller.currentPage, 'mode');
  await r.controller.stop();
});

test('a mode change jumps to the mode page; a new critical alarm to the alarms page', async () => {
  const r = await rig();
  await r.controller.start();
  await r.press();
  await r.press();
  assert.is(r.controller.currentPage, 'calls');
  r.set({ mode: 'survivability', uplinks: [{ name: 'cloud', state: 'down' }] });
  await r.controller.notify();
  await flush();
  assert.equal(r.sim.screen().slice(0, 2), ['SURVIVABILITY', 'Cloud           down']);
  assert.equal(r.sim.led, { colour: 'amber', mode: 'solid' });
  r.set({ mode: 'survivability', alarms: [{ alarm: 'temperature-high', severity: 'critical', message: 'CPU 86C' }] });
  await run(r.clock, 1000);
  assert.equal(r.sim.screen().slice(0, 2), ['ALARMS (1)', '!! CPU 86C']);
  assert.equal(r.sim.led, { colour: 'red', mode: 'blink' });
  await r.controller.stop();
});

test('factory reset needs a hold and a second hold; a press cancels; the window times out', async () => {
  const r = await rig();
  await r.controller.start();
  // Hold: the confirm screen shows while the button is still down.
  await r.sim.pressButton();
  await run(r.clock, 5000);
  assert.is(r.controller.controlState, 'confirm');
  assert.is(r.sim.screen()[0], 'FACTORY RESET?');
  await r.sim.releaseButton();
  // A short press cancels.
  await r.press();
  assert.is(r.controller.controlState, 'paging');
  assert.is(r.sim.screen()[0], 'NORMAL');
  // Hold, then nothing for the window: back to paging, no reset.
  await r.press(5100);
  assert.is(r.controller.controlState, 'confirm');
  await run(r.clock, 15_000, 500);
  assert.is(r.controller.controlState, 'paging');
  // Hold, hold again: reset.
  await r.press(5100);
  await r.press(5100);
  assert.is(r.controller.controlState, 'restarting');
  assert.is(r.resets.length, 1);
  assert.equal(r.sim.screen(), ['FACTORY RESET DONE', 'Restarting...', 'New claim code', 'ABCD-EFGH']);
  assert.equal(r.sim.led, { colour: 'amber', mode: 'solid' });
  // Nothing more happens from the button while the board restarts.
  await r.press(5100);
  await r.press(5100);
  assert.is(r.resets.length, 1);
  await r.controller.stop();
});

test('while erasing the panel says so; a refusal (calls up) is shown, then the panel pages again', async () => {
  const r = await rig();
  await r.controller.start();
  let answer: (o: FactoryResetOutcome) => void = () => undefined;
  r.outcome(() => new Promise((res) => (answer = res)));
  await r.press(5100);
  // The second hold by hand: the panel is busy until the reset answers, so no waiting for it to go idle.
  await r.sim.pressButton();
  await run(r.clock, 5100, 50);
  await r.sim.releaseButton();
  await flush(30);
  assert.is(r.controller.controlState, 'resetting');
  assert.equal(r.sim.screen().slice(0, 3), ['FACTORY RESET', 'Erasing, do not', 'unplug the box']);
  assert.equal(r.sim.led, { colour: 'red', mode: 'blink' });
  answer({ outcome: 'refused', reason: 'calls-up', message: 'calls up: hang up first' });
  await flush(30);
  assert.is(r.controller.controlState, 'refused');
  assert.equal(r.sim.screen(), ['CALLS UP', 'Hang up first', 'Reset refused', 'Then hold again']);
  // Shown for 10 s, then paging again; the installer can confirm again later.
  await run(r.clock, 10_000, 500);
  assert.is(r.controller.controlState, 'paging');
  assert.is(r.sim.screen()[0], 'NORMAL');
  r.outcome(() => Promise.resolve({ outcome: 'refused', reason: 'update-running', message: 'an update is installing' }));
  await r.press(5100);
  await r.press(5100);
  assert.is(r.controller.controlState, 'refused');
  assert.equal(r.sim.screen().slice(0, 2), ['UPDATE RUNNING', 'Try again later']);
  // A press clears a refusal at once.
  await r.press();
  assert.is(r.controller.controlState, 'paging');
  // A reset that throws is a refusal too ('failed'): the panel stays usable.
  r.outcome(() => Promise.reject(new Error('disk on fire')));
  await r.press(5100);
  await r.press(5100);
  assert.is(r.controller.controlState, 'refused');
  assert.equal(r.sim.screen().slice(0, 2), ['RESET FAILED', 'See the log']);
  assert.is(r.resets.length, 3);
  await r.controller.stop();
});

test('a panel that restarts is repainted', async () => {
  const r = await rig(16, 2);
  await r.controller.start();
  assert.equal(r.sim.screen(), ['NORMAL', 'Cloud         up']);
  await r.sim.restart();
  assert.equal(r.sim.screen(), ['', '']);
  await flush(30);
  assert.equal(r.sim.screen(), ['NORMAL', 'Cloud         up']);
  assert.equal(r.sim.led, { colour: 'green', mode: 'solid' });
  await r.controller.stop();
});

test.run();
