import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { modemLinkStateSource } from '../../../../hw/modem/modem-link-source.js';
import { ModemMonitor } from '../../../../hw/modem/modem-monitor.js';
import { ModemSimulator } from '../../../../hw/modem/modem-simulator.js';
import { createMemoryLinkPair } from '../../../../hw/serial/memory-line-link.js';
import { run, until } from '../support/fake-time.js';

test('the uplinks see up/down changes of the modem, not every reason change', async () => {
  const clock = new FakeClock();
  const [host, dev] = createMemoryLinkPair();
  const sim = new ModemSimulator({ link: dev, clock });
  const monitor = new ModemMonitor({ openLink: () => Promise.resolve(host), clock, logger: silentLogger(), pollIntervalMs: 1000 });
  const source = modemLinkStateSource(monitor);
  assert.is(source.current(), 'down');
  const seen: string[] = [];
  source.start((s) => seen.push(s));
  monitor.start();
  await until(clock, () => source.current() === 'up', 3000);
  sim.loseSignal();
  // not-registered, then no-signal: one `down` for the uplinks.
  await run(clock, 3000);
  sim.restoreSignal();
  await until(clock, () => source.current() === 'up', 3000);
  assert.equal(seen, ['up', 'down', 'up']);
  source.stop();
  sim.loseSignal();
  await run(clock, 2000);
  assert.equal(seen, ['up', 'down', 'up']);
  assert.is(source.current(), 'down');
  await monitor.stop();
});

test.run();
