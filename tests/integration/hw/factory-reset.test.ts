/**
 * Issue 5's factory reset through the real gateway (`pgw run`) on a dev-sim
 * board, its front panel a simulator on a socat pty: with a call up between
 * two baresip phones, two holds on the button are refused ("CALLS UP / Hang
 * up first" on the LCD, a log line) and so is `pgw factory-reset --yes` at
 * the console (exit 5); once the call is over, two holds erase the practice
 * store, recordings and identity, rewrite the gateway file, ask the
 * simulated board to reboot and stop the gateway; started again (in a
 * network namespace of its own: a factory-fresh gateway listens on 5060)
 * it shows the new claim code on the LCD.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../firmware/src/util/clock.js';
import { createDeviceIdentity } from '../../../hw/identity/device-identity.js';
import { ModemSimulator } from '../../../hw/modem/modem-simulator.js';
import { PanelSimulator } from '../../../hw/panel/panel-simulator.js';
import { PoeSimulator } from '../../../hw/poe/poe-simulator.js';
import { SIM_REBOOT_REQUEST_FILE } from '../../../hw/reset/board-restart.js';
import { makeTone } from '../../support/audio.js';
import { BaresipPhone } from '../../support/baresip.js';
import { startGateway, testPractice, type GatewayUnderTest } from '../../support/gateway.js';
import { createNamespace, nsSpawn, removeNamespace } from '../../support/netns.js';
import { freePortBlock, freeUdpPort } from '../../support/ports.js';
import { withTimeout, type ManagedProcess } from '../../support/proc.js';
import { ptyRig, waitFor } from './support/rig.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cli(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'firmware/src/cli/main.ts'), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the panel factory reset: refused with a call up, then erases, reboots the simulated board and comes back with a new claim code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-reset-'));
  const rig = ptyRig();
  const clock = new SystemClock();
  const savedEnv = { ...process.env };
  let gw: GatewayUnderTest | undefined;
  let again: ManagedProcess | undefined;
  let netns: string | undefined;
  const phones: BaresipPhone[] = [];
  const sims: Array<{ dispose(): void }> = [];
  try {
    await withTimeout(
      (async () => {
        const panelDev = await rig.device('panel', '\n');
        const modemDev = await rig.device('modem', '\r\n');
        const poeDev = await rig.device('poe', '\n');
        const panel = new PanelSimulator({ link: panelDev.simLink, cols: 20, rows: 4 });
        sims.push(panel, new ModemSimulator({ link: modemDev.simLink, clock, rebootMs: 300 }), new PoeSimulator({ link: poeDev.simLink, clock, ports: 8 }));
        const hold = async () => {
          await panel.pressButton();
          await waitFor(() => panel.screen()[0] === 'FACTORY RESET?', 'the confirm screen', 10_000);
          await panel.releaseButton();
          await sleep(200);
          // The second 5 s hold: held until the panel leaves the confirm screen.
          await panel.pressButton();
          await waitFor(() => panel.screen()[0] !== 'FACTORY RESET?', 'the second hold taken', 10_000);
          await panel.releaseButton();
        };

        // A box in service: claimed identity, a practice, a recording and a voicemail on /data.
        const identityDir = join(dir, 'identity');
        const old = await createDeviceIdentity(identityDir);
        writeFileSync(join(identityDir, 'claimed'), '');
        const dataDir = join(dir, 'gw', 'var');
        mkdirSync(join(dataDir, 'recordings'), { recursive: true });
        writeFileSync(join(dataDir, 'recordings', 'call-1.wav'), 'RIFF');
        mkdirSync(join(dataDir, 'voicemail', '202'), { recursive: true });
        writeFileSync(join(dataDir, 'voicemail', '202', 'msg-1.wav'), 'RIFF');

        const sipPort = await freeUdpPort();
        const adminPort = await freeUdpPort();
        const p = testPractice({
          extensions: [
            { number: '201', name: 'Reception 1', password: 'pw-201-secret' },
            { number: '202', name: 'Dr Patel', password: 'pw-202-secret' },
          ],
        });
        const practice = { ...p, sip: { ...(p.sip as object), listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }] } };
        Object.assign(process.env, { PGW_SIM_DIR: rig.dir, PGW_IDENTITY_DIR: identityDir });
        gw = await startGateway({ dir: join(dir, 'gw'), practice, device: { id: old.deviceId, board: 'dev-sim', admin: { listen: `127.0.0.1:${adminPort}` } } });
        assert.ok(existsSync(join(dataDir, 'practice.json')));
        await waitFor(() => panel.screen()[0] === 'NORMAL', 'the mode page (claimed: no claim code)', 10_000);

        // A call up: 201 calls 202, who answers.
        const base = await freePortBlock(20);
        for (const [i, user] of ['201', '202'].entries()) {
          const phone = await BaresipPhone.start({
            name: `p${user}`,
            listenIp: '127.0.0.1',
            sipPort: base + i * 10,
            user,
            registrar: { host: '127.0.0.1', port: sipPort, password: `pw-${user}-secret`, regintSec: 300 },
            toneWav: await makeTone({ path: join(dir, `t${user}.wav`), freqHz: 600 + i * 200, seconds: 20 }),
            workDir: join(dir, `phone-${user}`),
          });
          phones.push(phone);
          await phone.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
        }
        await phones[0]!.dial(`sip:202@127.0.0.1:${sipPort}`);
        await phones[0]!.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });

        // Two holds with the call up: refused on the LCD and in the log; nothing erased.
        await hold();
        // Rows arrive one command at a time: wait for the whole screen.
        const refusal = ['CALLS UP', 'Hang up first', 'Reset refused', 'Then hold again'];
        await waitFor(() => panel.screen().join('|') === refusal.join('|'), 'the refusal on the LCD', 15_000);
        await gw.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('factory reset refused: 1 call up'), 5000);
        // The console CLI is refused the same way, through the running gateway.
        const env = { ...process.env };
        assert.is(cli(['factory-reset', '--data', dataDir], env).status, 2, 'no --yes: usage');
        const refused = cli(['factory-reset', '--yes', '--data', dataDir], env);
        assert.is(refused.status, 5, refused.stderr);
        assert.match(refused.stderr, /hang up first/);
        assert.ok(existsSync(join(dataDir, 'practice.json')));
        assert.ok(existsSync(join(identityDir, 'claimed')));
        assert.is(readFileSync(join(identityDir, 'device-id'), 'utf8').trim(), old.deviceId);

        // Hang up; the refusal clears with a press; two holds again: erased, the board asked to reboot.
        await phones[0]!.hangup();
        await phones[1]!.waitFor('CALL_CLOSED', { timeoutMs: 10_000 });
        await panel.pressButton();
        await sleep(100);
        await panel.releaseButton();
        await waitFor(() => panel.screen()[0] === 'NORMAL', 'paging again', 10_000);
        await hold();
        await waitFor(() => panel.screen()[0] === 'FACTORY RESET DONE', 'the done screen', 15_000);
        const newClaim = readFileSync(join(identityDir, 'claim-code'), 'utf8').trim();
        const doneScreen = ['FACTORY RESET DONE', 'Restarting...', 'New claim code', newClaim];
        await waitFor(() => panel.screen().join('|') === doneScreen.join('|'), 'the new claim code on the done screen', 5000);
        assert.is.not(newClaim, old.claimCode);
        // The simulated board's reboot stops the gateway as systemd would: a clean exit.
        assert.equal(await withTimeout(gw.proc.exited, 15_000, 'the gateway to stop for the reboot'), { code: 0, signal: null });
        const request = JSON.parse(readFileSync(join(rig.dir, SIM_REBOOT_REQUEST_FILE), 'utf8')) as { reason: string };
        assert.is(request.reason, 'factory reset');
        const done = gw.logs().find((l) => l.msg === 'factory reset done: the box restarts factory-fresh') as { claimCode: string; deviceId: string } | undefined;
        assert.is(done?.claimCode, newClaim);
        gw = undefined;

        // Data gone, slots untouched, identity new, the gateway file in its factory form.
        for (const gone of ['practice.json', 'recordings', 'voicemail', 'factory-reset.pending']) assert.not.ok(existsSync(join(dataDir, gone)), gone);
        assert.not.ok(existsSync(join(identityDir, 'claimed')));
        const file = JSON.parse(readFileSync(join(dir, 'gw', 'gateway.json'), 'utf8')) as Record<string, unknown>;
        assert.equal(file, { device: { id: done?.deviceId, board: 'dev-sim', admin: { listen: `127.0.0.1:${adminPort}` } } });
        for (const ph of phones.splice(0)) await ph.stop();

        // The box comes back (its own namespace: with no practice it listens on 5060): the claim code on the LCD.
        netns = await createNamespace('reset');
        again = nsSpawn(
          netns,
          process.execPath,
          ['--import', 'tsx', join(ROOT, 'firmware/src/cli/main.ts'), 'run', '--config', join(dir, 'gw', 'gateway.json'), '--data', dataDir],
          { cwd: ROOT, env: { ...process.env } },
        );
        const claimPage = ['CLAIM CODE', newClaim, 'Enter in portal', done?.deviceId ?? ''];
        await waitFor(() => panel.screen().join('|') === claimPage.join('|'), 'the claim page after the restart', 30_000).catch((e: Error) => {
          throw new Error(`${e.message}: ${panel.text()}\n${again?.output.toString().slice(-2000) ?? ''}`);
        });
        // The panel paints before start-up ends; SIGTERM is the CLI's to handle once it says the gateway runs.
        await waitFor(() => again?.output.toString().includes('"msg":"gateway running"') ?? false, 'the restarted gateway running', 20_000);
        again.child.kill('SIGTERM');
        assert.equal(await withTimeout(again.exited, 10_000, 'the restarted gateway to stop'), { code: 0, signal: null });
        again = undefined;
      })(),
      120_000,
      'the factory reset through the panel',
    );
  } finally {
    process.env = savedEnv;
    for (const ph of phones) await ph.stop().catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    await again?.stop().catch(() => undefined);
    if (netns) await removeNamespace(netns).catch(() => undefined);
    for (const s of sims) s.dispose();
    await rig.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
