/**
 * Issue 5 through the real gateway (`pgw run` on 127.0.0.1): a `dev-sim`
 * board whose front panel, 4G modem and PoE controller are simulators on
 * socat ptys (PGW_SIM_DIR), and systemd's notify socket played by socat
 * (NOTIFY_SOCKET, WATCHDOG_USEC). The LCD shows the mode page and its
 * registrations count changes when a phone registers; a press pages to the
 * 4G line, which follows the modem losing its signal; the admin API shows
 * the hardware and the PoE ports; READY=1 and WATCHDOG=1 pets arrive while
 * the gateway is healthy, and a SIGTERM ends with STOPPING=1 and a clean exit.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../firmware/src/util/clock.js';
import { ModemSimulator } from '../../../hw/modem/modem-simulator.js';
import { PanelSimulator } from '../../../hw/panel/panel-simulator.js';
import { PoeSimulator } from '../../../hw/poe/poe-simulator.js';
import { makeTone } from '../../support/audio.js';
import { BaresipPhone } from '../../support/baresip.js';
import { startGateway, testPractice, type GatewayUnderTest } from '../../support/gateway.js';
import { freePortBlock, freeUdpPort } from '../../support/ports.js';
import { withTimeout } from '../../support/proc.js';
import { ptyRig, waitFor } from './support/rig.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the gateway drives the dev-sim panel, modem, PoE ports and the systemd watchdog', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-gwhw-'));
  const rig = ptyRig();
  const clock = new SystemClock();
  const notifySocket = join(dir, 'notify');
  const receiver = spawn('socat', ['-u', `UNIX-RECV:${notifySocket}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let notified = '';
  receiver.stdout.on('data', (d: Buffer) => (notified += d.toString()));
  const messages = () => notified.split('\n').filter(Boolean);
  const savedEnv = { ...process.env };
  let gw: GatewayUnderTest | undefined;
  let phone: BaresipPhone | undefined;
  const sims: Array<{ dispose(): void }> = [];
  try {
    await withTimeout(
      (async () => {
        const panelDev = await rig.device('panel', '\n');
        const modemDev = await rig.device('modem', '\r\n');
        const poeDev = await rig.device('poe', '\n');
        const panel = new PanelSimulator({ link: panelDev.simLink, cols: 20, rows: 4 });
        const modem = new ModemSimulator({ link: modemDev.simLink, clock, rebootMs: 300 });
        const poe = new PoeSimulator({ link: poeDev.simLink, clock, ports: 8 });
        sims.push(panel, modem, poe);
        poe.plug(3, { mac: '00:15:65:00:02:01', powerClass: 2, drawMw: 4200 });
        for (let i = 0; i < 100 && !existsSync(notifySocket); i++) await sleep(20);

        const sipPort = await freeUdpPort();
        const adminPort = await freeUdpPort();
        const p = testPractice({ extensions: [{ number: '201', name: 'Reception 1', password: 'pw-201-secret' }] });
        const practice = { ...p, sip: { ...(p.sip as object), listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }] } };
        // The gateway inherits the environment: the rig's directory, no claim code, systemd's notify socket (pets every second).
        Object.assign(process.env, { PGW_SIM_DIR: rig.dir, PGW_IDENTITY_DIR: join(dir, 'identity'), NOTIFY_SOCKET: notifySocket, WATCHDOG_USEC: '2000000' });
        gw = await startGateway({ dir: join(dir, 'gw'), practice, device: { board: 'dev-sim', admin: { listen: `127.0.0.1:${adminPort}` } } });
        const admin = `http://127.0.0.1:${adminPort}/api/v1`;

        // The mode page: no cloud uplink, so NORMAL; no phone yet.
        await waitFor(() => panel.screen()[0] === 'NORMAL' && panel.screen()[2] === 'Regs 0 Calls 0', 'the mode page', 10_000);
        assert.is(panel.screen()[1], 'No cloud uplink');
        assert.is(panel.screen()[3], 'pgw-test');
        assert.is(panel.led.colour, 'green');

        // READY=1 once ready, then WATCHDOG=1 pets while healthy.
        await waitFor(() => messages().filter((m) => m === 'WATCHDOG=1').length >= 3, 'three watchdog pets', 10_000);
        assert.is(messages()[0], 'READY=1');

        // A phone registers: the page follows.
        const port = await freePortBlock(10);
        phone = await BaresipPhone.start({
          name: 'reception',
          listenIp: '127.0.0.1',
          sipPort: port,
          user: '201',
          registrar: { host: '127.0.0.1', port: sipPort, password: 'pw-201-secret', regintSec: 300 },
          toneWav: await makeTone({ path: join(dir, 't.wav'), freqHz: 800, seconds: 5 }),
          workDir: join(dir, 'phone'),
        });
        await phone.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
        await waitFor(() => panel.screen()[2] === 'Regs 1 Calls 0', 'Regs 1 on the panel', 5000);

        // The modem: up on the uplinks page (one press), then down when the signal goes.
        await panel.pressButton();
        await sleep(100);
        await panel.releaseButton();
        await waitFor(() => panel.screen().some((r) => /^4G\s+3\/5 EE$/.test(r)), 'the 4G line on the uplinks page', 10_000);
        const up = (await (await fetch(`${admin}/hardware`)).json()) as { board: string; modem: { up: boolean; operator: string }; watchdog: { kind: string; state: string; pets: number }; panel: { page: string } };
        assert.is(up.board, 'dev-sim');
        assert.is(up.modem.up, true);
        assert.is(up.modem.operator, 'EE');
        assert.is(up.watchdog.kind, 'systemd');
        assert.is(up.watchdog.state, 'petting');
        assert.ok(up.watchdog.pets >= 3);
        assert.is(up.panel.page, 'uplinks');
        modem.loseSignal();
        // The +CREG/+CEREG URCs say "searching" at once; the next poll's CSQ says why (no-signal).
        await waitFor(() => panel.screen().some((r) => /^4G\s+(not-registered|no-signal)$/.test(r)), 'the 4G line down on the panel', 10_000);
        const down = (await (await fetch(`${admin}/hardware`)).json()) as { modem: { up: boolean } };
        assert.is(down.modem.up, false);
        modem.restoreSignal();
        // Back at the next poll (every 15 s): the URCs alone do not bring the signal figures back.
        await waitFor(() => panel.screen().some((r) => /^4G\s+3\/5 EE$/.test(r)), 'the 4G line back', 25_000).catch((e: Error) => {
          throw new Error(`${e.message}: ${panel.text()}`);
        });

        // The PoE ports (the phone on loopback has no ARP entry, so no extension).
        const ports = (await (await fetch(`${admin}/ports`)).json()) as { ports: Array<{ port: number; mac: string | null; extension: string | null }> };
        assert.is(ports.ports.length, 8);
        const p3 = ports.ports.find((x) => x.port === 3);
        assert.is(p3?.mac, '00:15:65:00:02:01');
        assert.is(p3?.extension, null);

        // SIGTERM: the keeper says STOPPING=1 (disarmed) and the process exits cleanly.
        await phone.stop();
        phone = undefined;
        await gw.stop();
        assert.equal(await gw.proc.exited, { code: 0, signal: null });
        await waitFor(() => messages().includes('STOPPING=1'), 'STOPPING=1', 5000);
        assert.is(messages()[messages().length - 1], 'STOPPING=1');
        assert.ok(gw.logs().some((l) => l.msg === 'stopped'));
        gw = undefined;
      })(),
      90_000,
      'the gateway with the dev-sim hardware',
    );
  } finally {
    process.env = savedEnv;
    await phone?.stop().catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    for (const s of sims) s.dispose();
    await rig.close();
    receiver.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
