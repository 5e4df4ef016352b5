/**
 * The development rig: simulators for the front panel, modem and PoE
 * controller on pseudo-terminals, where the `dev-sim` board profile looks
 * for them. Prints the panel's screen when it changes; takes commands on
 * stdin to make things happen:
 *
 *   node --import tsx hw/sim/run-simulators.ts [--dir /run/pgw-sim]
 *
 *   press | hold           the panel button (hold: 6 s)
 *   lose | restore | wedge | break-data     the modem
 *   plug <port> <mac> | unplug <port>       the PoE ports
 *   screen                 print the panel now
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SystemClock } from '../../firmware/src/util/clock.js';
import { DEV_SIM_DIR } from '../boards/dev-sim.js';
import { ModemSimulator } from '../modem/modem-simulator.js';
import { PanelSimulator } from '../panel/panel-simulator.js';
import { PoeSimulator } from '../poe/poe-simulator.js';
import { openSerialLineLink } from '../serial/serial-line-link.js';
import { createPtyPair } from './pty-pair.js';

const { values } = parseArgs({ options: { dir: { type: 'string', default: DEV_SIM_DIR } } });
const dir = values.dir!;
mkdirSync(dir, { recursive: true });
const clock = new SystemClock();

const pairs = await Promise.all(
  ['panel', 'modem', 'poe'].map((name) => createPtyPair(join(dir, name), join(dir, `${name}.sim`))),
);
const [panelLink, modemLink, poeLink] = await Promise.all([
  openSerialLineLink({ path: join(dir, 'panel.sim'), baudRate: 115200, lineEnding: '\n' }),
  openSerialLineLink({ path: join(dir, 'modem.sim'), baudRate: 115200, lineEnding: '\r\n' }),
  openSerialLineLink({ path: join(dir, 'poe.sim'), baudRate: 115200, lineEnding: '\n' }),
]);
const panel = new PanelSimulator({ link: panelLink, cols: 20, rows: 4 });
const modem = new ModemSimulator({ link: modemLink, clock, rebootMs: 3000 });
const poe = new PoeSimulator({ link: poeLink, clock, ports: 8 });
poe.plug(1, { mac: '00:15:65:00:02:01', powerClass: 2, drawMw: 4200 });
poe.plug(2, { mac: '00:15:65:00:02:02', powerClass: 2, drawMw: 4300 });
poe.plug(5, { mac: '80:5e:c0:00:03:01', powerClass: 3, drawMw: 6800 });

const show = () => {
  const border = '+' + '-'.repeat(panel.cols) + '+';
  console.log([border, ...panel.screen().map((r) => '|' + r.padEnd(panel.cols) + '|'), border, `LED ${panel.led.colour} ${panel.led.mode}`].join('\n'));
};
let lastText = '';
panel.onUpdate(() => {
  const t = panel.text() + panel.led.colour + panel.led.mode;
  if (t !== lastText) {
    lastText = t;
    show();
  }
});
console.log(`simulators up: ${pairs.map((p) => p.device).join(', ')}`);

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, a, b] = line.trim().split(/\s+/);
  switch (cmd) {
    case 'press':
      void panel.pressButton().then(() => setTimeout(() => void panel.releaseButton(), 150));
      break;
    case 'hold':
      void panel.pressButton().then(() => setTimeout(() => void panel.releaseButton(), 6000));
      break;
    case 'lose':
      modem.loseSignal();
      break;
    case 'restore':
      modem.restoreSignal();
      break;
    case 'wedge':
      modem.wedge();
      break;
    case 'break-data':
      modem.breakDataPath();
      break;
    case 'plug':
      poe.plug(Number(a), { mac: b ?? '00:15:65:00:09:99', powerClass: 2, drawMw: 4000 });
      break;
    case 'unplug':
      poe.unplug(Number(a));
      break;
    case 'screen':
      show();
      break;
    default:
      console.log('commands: press hold lose restore wedge break-data plug <port> <mac> unplug <port> screen');
  }
});

const stop = async () => {
  rl.close();
  await Promise.all([panelLink.close(), modemLink.close(), poeLink.close()]);
  await Promise.all(pairs.map((p) => p.close()));
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
