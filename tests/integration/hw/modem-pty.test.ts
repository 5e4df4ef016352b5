/**
 * The real modem driver (serialport, CR line endings) against the Quectel
 * simulator over a socat pty pair: signal loss and recovery, a wedged modem
 * power-cycled, an attached-but-dead modem reset with AT+CFUN=1,1.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SystemClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { ModemMonitor } from '../../../hw/modem/modem-monitor.js';
import { ModemSimulator } from '../../../hw/modem/modem-simulator.js';
import type { LinkHealth } from '../../../hw/modem/link-health.js';
import { openSerialLineLink } from '../../../hw/serial/serial-line-link.js';
import { ptyRig, waitFor } from './support/rig.js';

async function setup() {
  const rig = ptyRig();
  const clock = new SystemClock();
  const { path, simLink } = await rig.device('modem', '\r\n');
  const sim = new ModemSimulator({ link: simLink, clock, rebootMs: 300 });
  const monitor = new ModemMonitor({
    openLink: () => openSerialLineLink({ path, baudRate: 115200, lineEnding: '\r' }),
    clock,
    logger: silentLogger(),
    pollIntervalMs: 200,
    commandTimeoutMs: 400,
    settleMs: 3000,
    resetBackoffMinMs: 1000,
    servingCell: true,
    dataProbe: () => Promise.resolve(sim.dataPathWorks),
    powerCycle: () => {
      sim.powerCycle();
      return Promise.resolve();
    },
  });
  const health: LinkHealth[] = [];
  monitor.onLinkHealth((h) => health.push(h));
  return {
    sim,
    monitor,
    health,
    async close() {
      await monitor.stop();
      sim.dispose();
      await rig.close();
    },
  };
}

test('signal loss takes the link down and recovery brings it back', async () => {
  const r = await setup();
  try {
    r.monitor.start();
    await waitFor(() => r.monitor.linkHealth().up, 'link up');
    const s = r.monitor.status();
    assert.is(s.operator, 'EE');
    assert.is(s.registration, 'home');
    assert.is(s.signal.bars, 3);
    assert.is(s.servingCell?.rsrp, -92);
    r.sim.loseSignal();
    await waitFor(() => r.monitor.linkHealth().reason === 'no-signal', 'no-signal');
    assert.is(r.monitor.status().registration, 'searching');
    assert.is(r.monitor.status().operator, null);
    r.sim.restoreSignal();
    await waitFor(() => r.monitor.linkHealth().up, 'link up again');
    const reasons = r.health.map((h) => h.reason);
    assert.is(reasons[0], 'ok');
    assert.is(reasons[reasons.length - 1], 'ok');
    assert.ok(reasons.includes('no-signal'));
    assert.is(r.sim.resets, 0, 'signal loss is not a reason to reset');
  } finally {
    await r.close();
  }
});

test('a wedged modem is power-cycled and recovers', async () => {
  const r = await setup();
  try {
    r.monitor.start();
    await waitFor(() => r.monitor.linkHealth().up, 'link up');
    r.sim.wedge();
    await waitFor(() => r.monitor.status().resets === 1, 'a reset');
    assert.is(r.monitor.status().lastReset?.reason, 'unresponsive');
    await waitFor(() => r.monitor.linkHealth().up, 'link up after the power cycle', 8000);
    assert.is(r.sim.resets, 1);
  } finally {
    await r.close();
  }
});

test('attached but dead: AT+CFUN=1,1, RDY, data flows again', async () => {
  const r = await setup();
  try {
    r.monitor.start();
    await waitFor(() => r.monitor.status().dataPath === 'ok', 'data ok');
    r.sim.breakDataPath();
    await waitFor(() => r.monitor.status().resets === 1, 'a reset');
    assert.is(r.monitor.status().lastReset?.reason, 'attached but no data');
    assert.ok(r.sim.received.includes('AT+CFUN=1,1'));
    await waitFor(() => r.monitor.status().dataPath === 'ok' && r.monitor.linkHealth().up, 'data ok after reset', 8000);
  } finally {
    await r.close();
  }
});

test.run();
