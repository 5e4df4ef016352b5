/**
 * The 4G data-path probe in the running gateway (issue 5,
 * device.modem.dataProbe): a dev-sim board whose modem is the simulator on a
 * socat pty and whose 4G interface is `lo`; a trunk registered to Kamailio
 * leaves by that interface (device.interfaces.wan), and the probe target is
 * a TCP listener on 127.0.0.1. The listener stops: the probe fails from the
 * modem's address, the monitor resets the attached-but-dead modem (the
 * simulator sees AT+CFUN=1,1), the trunk goes down with the modem's link;
 * the listener is back: the modem and the trunk come back.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../firmware/src/util/clock.js';
import { ModemSimulator } from '../../../hw/modem/modem-simulator.js';
import { startGateway, testPractice, type GatewayUnderTest } from '../../support/gateway.js';
import { startKamailio, type KamailioProcess } from '../../support/kamailio.js';
import { freeUdpPort } from '../../support/ports.js';
import { withTimeout } from '../../support/proc.js';
import { ptyRig, waitFor } from './support/rig.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

test('a dead 4G data path is found by the probe: the modem is reset and the trunk that leaves by it goes down, then both come back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-probe-'));
  const rig = ptyRig();
  const savedEnv = { ...process.env };
  let gw: GatewayUnderTest | undefined;
  let kam: KamailioProcess | undefined;
  let target: Server | undefined;
  let sim: ModemSimulator | undefined;
  try {
    await withTimeout(
      (async () => {
        const modemDev = await rig.device('modem', '\r\n');
        const modem = new ModemSimulator({ link: modemDev.simLink, clock: new SystemClock(), rebootMs: 300 });
        sim = modem;
        const kamPort = await freeUdpPort();
        const kamDir = join(dir, 'kam');
        mkdirSync(kamDir);
        kam = await startKamailio({ listenIp: '127.0.0.1', port: kamPort, users: [{ user: 'riverside', password: 'trunk-secret-9Jd' }], workDir: kamDir });
        const probePort = await freeUdpPort();
        target = await listen(probePort);

        const sipPort = await freeUdpPort();
        const adminPort = await freeUdpPort();
        const p = testPractice({ extensions: [{ number: '201', name: 'Reception 1', password: 'pw-201-secret' }] });
        const practice = {
          ...p,
          sip: { ...(p.sip as object), listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }] },
          uplinks: {
            trunks: [
              {
                name: 'backup',
                registrar: `sip:127.0.0.1:${kamPort}`,
                username: 'riverside',
                password: 'trunk-secret-9Jd',
                interface: 'wan',
                probe: { intervalMs: 1000, failAfter: 2, recoverAfterMs: 1000 },
              },
            ],
          },
        };
        Object.assign(process.env, { PGW_SIM_DIR: rig.dir, PGW_IDENTITY_DIR: join(dir, 'identity') });
        gw = await startGateway({
          dir: join(dir, 'gw'),
          practice,
          device: {
            board: 'dev-sim',
            admin: { listen: `127.0.0.1:${adminPort}` },
            // dev-sim's modem interface is lo: the trunk's wan role is the modem's, and the probe binds 127.0.0.1.
            interfaces: { wan: 'lo' },
            modem: { dataProbe: { host: '127.0.0.1', port: probePort, intervalSeconds: 2, timeoutSeconds: 1, failAfter: 3 } },
          },
        });
        const api = `http://127.0.0.1:${adminPort}/api/v1`;
        const trunk = async () => ((await (await fetch(`${api}/status`)).json()) as { uplinks: Array<{ name: string; state: string }> }).uplinks.find((u) => u.name === 'backup')?.state;
        const modemHealth = async () => ((await (await fetch(`${api}/hardware`)).json()) as { modem: { up: boolean; reason: string } }).modem;
        const poll = async (cond: () => Promise<boolean>, what: string, ms: number) => {
          const until = Date.now() + ms;
          while (!(await cond())) {
            if (Date.now() > until) throw new Error(`timed out waiting for ${what}: trunk ${await trunk()}, modem ${JSON.stringify(await modemHealth())}`);
            await sleep(200);
          }
        };

        await poll(async () => (await modemHealth()).up && (await trunk()) === 'up', 'the modem up and the trunk registered over it', 30_000);
        await gw.waitForLog((l) => l.msg === 'modem data probe over 4G' && l.iface === 'lo', 1000);

        // The far end stops answering TCP: three failed probes, then AT+CFUN=1,1.
        const resetsBefore = modem.received.filter((c) => c === 'AT+CFUN=1,1').length;
        await new Promise<void>((r) => target!.close(() => r()));
        target = undefined;
        await waitFor(() => modem.received.filter((c) => c === 'AT+CFUN=1,1').length > resetsBefore, 'the modem reset by AT+CFUN=1,1', 20_000);
        assert.ok(gw.logs().filter((l) => l.msg === 'modem data probe failed').length >= 3);
        await gw.waitForLog((l) => l.msg === 'uplink interface down' && l.link === '4G modem (lo)', 5000);
        await poll(async () => (await trunk()) === 'down', 'the trunk down with the 4G link', 5000);

        // The far end answers again: the modem comes back from its reset, the probe passes, the trunk is up again.
        target = await listen(probePort);
        await poll(async () => (await modemHealth()).up && (await trunk()) === 'up', 'the modem and the trunk back', 40_000);
        await gw.waitForLog((l) => l.msg === 'uplink interface up again', 1000);
      })(),
      110_000,
      'the modem data probe in the gateway',
    );
  } finally {
    process.env = savedEnv;
    await gw?.stop().catch(() => undefined);
    await kam?.stop().catch(() => undefined);
    target?.close();
    sim?.dispose();
    await rig.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
