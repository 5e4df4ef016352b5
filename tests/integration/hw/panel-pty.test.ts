/**
 * The front panel as a box opens it (openHardware from a board profile,
 * serialport on a pty) against the panel simulator: pages follow a mode
 * change, the button pages over the wire, a held button asks for a reset.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SystemClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { boardProfile } from '../../../hw/boards/index.js';
import { openHardware } from '../../../hw/hardware.js';
import { PanelController } from '../../../hw/panel/panel-controller.js';
import type { PanelSnapshot } from '../../../hw/panel/panel-pages.js';
import { PanelSimulator } from '../../../hw/panel/panel-simulator.js';
import { ptyRig, waitFor } from './support/rig.js';

test('LCD pages after a mode change, button paging and a confirmed reset, over a pty', async () => {
  const rig = ptyRig();
  const { path, simLink } = await rig.device('panel', '\n');
  const sim = new PanelSimulator({ link: simLink, cols: 20, rows: 4 });
  const base = boardProfile('rpi4-poe');
  const hw = await openHardware({
    board: { ...base, panel: { ...base.panel!, path }, modem: null, poe: null, watchdog: { kind: 'none' } },
    clock: new SystemClock(),
    logger: silentLogger(),
  });
  let controller: PanelController | undefined;
  try {
    assert.ok(hw.panel, 'panel opened');
    assert.is(hw.panel.cols, 20);
    let state: PanelSnapshot = {
      deviceId: 'pgw-0001',
      mode: 'normal',
      uplinks: [
        { name: 'cloud', state: 'up' },
        { name: 'backup', state: 'standby' },
      ],
      registrations: 7,
      activeCalls: 2,
      addresses: [{ name: 'eth0', role: 'lan', address: '192.0.2.10' }],
      alarms: [],
      ota: null,
      claimCode: null,
    };
    let resets = 0;
    controller = new PanelController({
      panel: hw.panel,
      clock: new SystemClock(),
      logger: silentLogger(),
      snapshot: () => state,
      onFactoryReset: () => {
        resets++;
        return Promise.resolve({ outcome: 'erased', claimCode: null });
      },
      refreshMs: 200,
      holdMs: 400,
      confirmWindowMs: 3000,
    });
    await controller.start();
    // Rows arrive one command at a time: wait for the whole page, then check it.
    const shows = (rows: string[]) => () => JSON.stringify(sim.screen().slice(0, rows.length)) === JSON.stringify(rows);
    await waitFor(shows(['NORMAL', 'Cloud             up', 'Regs 7 Calls 2', 'pgw-0001']), 'mode page');
    await waitFor(() => sim.led.colour === 'green', 'green LED');
    assert.equal(sim.led, { colour: 'green', mode: 'solid' });

    // The button pages over the wire.
    await sim.pressButton();
    await new Promise((r) => setTimeout(r, 50));
    await sim.releaseButton();
    await waitFor(shows(['UPLINKS', 'cloud             up', 'backup       standby']), 'uplinks page');

    // The cloud goes: the gateway switches mode and the panel jumps to the mode page.
    state = { ...state, mode: 'survivability', uplinks: [{ name: 'cloud', state: 'down' }, { name: 'backup', state: 'up' }] };
    await controller.notify();
    await waitFor(shows(['SURVIVABILITY', 'Cloud           down']), 'survivability on the mode page');
    await waitFor(() => sim.led.colour === 'amber', 'amber LED');
    assert.equal(sim.led, { colour: 'amber', mode: 'solid' });

    // Hold, confirm screen, hold again: reset requested.
    await sim.pressButton();
    await waitFor(() => sim.screen()[0] === 'FACTORY RESET?', 'confirm screen');
    await sim.releaseButton();
    await sim.pressButton();
    await waitFor(() => resets === 1, 'reset requested');
    await sim.releaseButton();
    await waitFor(() => sim.screen()[0] === 'FACTORY RESET DONE', 'reset done screen');
  } finally {
    await controller?.stop();
    await hw.close();
    sim.dispose();
    await rig.close();
  }
});

test.run();
