/**
 * Issue 4 against the real gateway (`pgw run`, on 127.0.0.1): its OTA agent
 * gets a target over a real mosquitto, downloads a bundle built and signed
 * here from a local HTTP server, and installs it into `file` slots
 * (directories) with the simulated board (device.ota.board `simulated`:
 * the reboot is recorded and the process stopped as systemd would; the next
 * start plays the boot loader). Two baresip phones are in a call when the
 * target (policy `now`) arrives:
 *
 * - the update downloads and verifies, then waits for the call; new calls
 *   are still taken meanwhile;
 * - when the call ends it installs into slot b and asks for the reboot;
 *   a call tried then is refused 503 (the hold), before the process stops;
 * - the gateway started again on the same data directory boots slot b on
 *   trial, is healthy (SIP OPTIONS, practice applied, cloud connected) for
 *   the soak time and commits; ota/reported, /api/v1/status and the MQTT
 *   status say it runs the new version from slot b, and calls work again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { PACKAGE_NAME, firmwareVersion } from '../../../firmware/src/cli/version.js';
import { readBootEnv } from '../../../hw/slots/file-backend.js';
import { REBOOT_REQUEST_FILE } from '../../../ota/agent/simulated-board.js';
import { buildBundle } from '../../../ota/bundle/build.js';
import { generateSigningKeyPair, parsePrivateKey, trustedKeyFromPem } from '../../../ota/bundle/keys.js';
import { connectFleet, publishTarget, watchReported } from '../../../ota/fleet/mqtt.js';
import { targetForBundle } from '../../../ota/fleet/target.js';
import type { OtaReported } from '../../../ota/protocol/reported.js';
import { makeTone } from '../../support/audio.js';
import { BaresipPhone } from '../../support/baresip.js';
import { startGateway, testPractice, type GatewayUnderTest } from '../../support/gateway.js';
import { freePortBlock, freeUdpPort } from '../../support/ports.js';
import { waitUntil, withTimeout } from '../../support/proc.js';
import { startBundleServer, type BundleServer } from '../../unit/ota/support/bundle-server.js';
import { startMosquitto, type Mosquitto } from '../sync/support/mosquitto.js';

const DEVICE = 'pgw-test';

test('an update waits for the call, holds new calls only around the reboot, and commits after the trial', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-ota-gw-'));
  let broker: Mosquitto | undefined;
  let server: BundleServer | undefined;
  let fleet: MqttClient | undefined;
  let gw: GatewayUnderTest | undefined;
  const phones: BaresipPhone[] = [];
  try {
    await withTimeout(
      (async () => {
        // The release: a root tree whose firmware is one major version up, signed with a key the box trusts.
        const running = firmwareVersion();
        const next = `${Number(running.split('.')[0]) + 1}.0.0`;
        const rootfs = join(dir, 'rootfs');
        mkdirSync(join(rootfs, 'usr/lib/pgw/app'), { recursive: true });
        writeFileSync(join(rootfs, 'usr/lib/pgw/app/package.json'), JSON.stringify({ name: PACKAGE_NAME, version: next }));
        writeFileSync(join(rootfs, 'usr/lib/pgw/app/filler.bin'), Buffer.alloc(600_000, 7));
        const pair = generateSigningKeyPair();
        const keyDir = join(dir, 'ota-keys');
        mkdirSync(keyDir);
        writeFileSync(join(keyDir, 'release.pub'), pair.publicPem);
        const bundlePath = join(dir, `pgw-${next}.pgwota`);
        await buildBundle({ input: { kind: 'directory', path: rootfs }, out: bundlePath, version: next, compatible: ['generic'], privateKey: parsePrivateKey(pair.privatePem) });

        broker = await startMosquitto();
        server = await startBundleServer();
        server.serve('next.pgwota', bundlePath);
        fleet = await connectFleet(broker.url);
        const reports: OtaReported[] = [];
        await watchReported(fleet, { deviceIds: [DEVICE], onUpdate: (_, r) => reports.push(r) });
        const statuses: Array<Record<string, unknown>> = [];
        fleet.on('message', (topic, payload) => {
          if (topic === `pgw/v1/${DEVICE}/status` && payload.length > 0) statuses.push(JSON.parse(payload.toString()) as Record<string, unknown>);
        });
        await fleet.subscribeAsync(`pgw/v1/${DEVICE}/status`, { qos: 1 });
        const report = (pred: (r: OtaReported) => boolean, what: string, timeoutMs = 20_000): Promise<OtaReported> =>
          waitUntil(() => reports.find(pred), { timeoutMs, what: `ota/reported: ${what} (seen: ${[...new Set(reports.map((r) => r.state))].join(' ')})` });

        const sipPort = await freeUdpPort();
        const adminPort = await freeUdpPort();
        const base = testPractice({
          extensions: [
            { number: '201', name: 'Reception', password: 'pw-201-secret' },
            { number: '202', name: 'Dr Patel', password: 'pw-202-secret' },
            { number: '203', name: 'Nurse', password: 'pw-203-secret' },
          ],
        });
        const practice = { ...base, sip: { ...(base.sip as object), listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }] } };
        const device = {
          admin: { listen: `127.0.0.1:${adminPort}` },
          cloud: { mqtt: { url: broker.url } },
          ota: { trustedKeys: [keyDir], slots: 'file-dir', board: 'simulated', simulatedRebootSeconds: 3, soakSeconds: 2, trialTimeoutSeconds: 30 },
        };
        const startBox = () => startGateway({ dir: join(dir, 'gw'), practice, device });
        const status = async (): Promise<{ firmware: { version: string; slot: string }; activeCalls: number }> =>
          (await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/status`)).json()) as { firmware: { version: string; slot: string }; activeCalls: number };

        gw = await startBox();
        const idle = await report((r) => r.state === 'idle', 'idle at start');
        assert.equal(idle.running, { version: running, slot: 'a' });
        assert.equal((await status()).firmware, { version: running, slot: 'a' });

        const phone = async (user: string, freqHz: number, tag = 'before'): Promise<BaresipPhone> => {
          const p = await BaresipPhone.start({
            name: `p${user}-${tag}`,
            listenIp: '127.0.0.1',
            sipPort: await freePortBlock(10),
            user,
            registrar: { host: '127.0.0.1', port: sipPort, password: `pw-${user}-secret`, regintSec: 300 },
            toneWav: await makeTone({ path: join(dir, `${user}-${tag}.wav`), freqHz, seconds: 60 }),
            workDir: join(dir, `phone-${user}-${tag}`),
          });
          phones.push(p);
          await p.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
          return p;
        };
        const alice = await phone('201', 700);
        const bob = await phone('202', 1100);
        const carol = await phone('203', 1500);
        const gwUri = (ext: string): string => `sip:${ext}@127.0.0.1:${sipPort}`;

        // A consultation is up when the update arrives.
        await alice.dial(gwUri('202'));
        await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        await bob.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        const target = await targetForBundle({ bundle: bundlePath, url: server.url('next.pgwota'), policy: 'now', trusted: [trustedKeyFromPem(pair.publicPem, 'test')] });
        await publishTarget(fleet, [DEVICE], target);

        const waiting = await report((r) => r.state === 'waiting-idle' && r.waiting?.for === 'calls', 'waiting for the call');
        assert.is(waiting.waiting?.activeCalls, 1, 'one call (two legs) counts as one');
        assert.ok(
          reports.some((r) => r.progress?.phase === 'download' && r.progress.percent === 100),
          'the download was reported to 100 %',
        );
        assert.ok(reports.some((r) => r.state === 'verifying'), 'verified before waiting');
        // Still waiting a while later: nothing installed, nothing armed, the call carries on.
        await new Promise((r) => setTimeout(r, 1_500));
        assert.is(reports.at(-1)?.state, 'waiting-idle');
        assert.equal(await readBootEnv(join(gw.dataDir, 'slots-sim')), { primary: 'a', armed: null, tries: 0 });
        assert.ok(!existsSync(join(gw.dataDir, 'slots-sim/slots/b/usr')), 'slot b is not written while the call is up');

        // New calls are taken while the update waits (no hold yet): carol reaches the reception,
        // whose phone takes a second call; the agent now waits for two calls (four legs).
        await carol.dial(gwUri('201'));
        await carol.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        await report((r) => r.state === 'waiting-idle' && r.waiting?.activeCalls === 2, 'waiting for two calls');
        assert.not.ok(gw.logs().some((l) => l.msg === 'new calls refused (503) for the update reboot'), 'no hold while waiting');
        await carol.hangup();
        await carol.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        await report((r) => r.state === 'waiting-idle' && r.waiting?.activeCalls === 1, 'back to waiting for one call');

        // The consultation ends: install into slot b, hold new calls, reboot.
        await bob.hangup();
        await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        const rebooting = await report((r) => r.state === 'rebooting', 'rebooting', 15_000);
        assert.ok(reports.some((r) => r.state === 'installing'));
        assert.ok(reports.some((r) => r.progress?.phase === 'install' && r.progress.percent === 100), 'the slot write was reported');
        assert.is(rebooting.reason, null);

        // During the hold, before the (simulated) reboot stops the process: a new call is refused 503.
        await carol.dial(gwUri('202'));
        const refused = await carol.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        assert.match(String(refused.param ?? ''), /503/, `refused with 503: ${refused.param ?? ''}`);
        assert.not.ok(gw.logs().some((l) => l.msg === 'stopping'), 'the 503 came from the hold, not from the shutdown');
        assert.ok(gw.logs().some((l) => l.msg === 'new calls refused (503) for the update reboot'));

        const exit = await withTimeout(gw.proc.exited, 15_000, 'the gateway stopping for the simulated reboot');
        assert.is(exit.code, 0, 'a clean stop, as on SIGTERM');
        assert.ok(existsSync(join(gw.dataDir, 'slots-sim', REBOOT_REQUEST_FILE)), 'the reboot request is recorded');
        assert.equal(await readBootEnv(join(gw.dataDir, 'slots-sim')), { primary: 'a', armed: 'b', tries: 1 });

        // "Reboot": the same data directory, a new process; the boot loader tries slot b once.
        reports.length = 0;
        gw = await startBox();
        const committed = await report((r) => r.state === 'committed', 'committed after the trial', 25_000);
        assert.equal(committed.running, { version: next, slot: 'b' });
        assert.is(committed.id, target.id);
        const trial = reports.filter((r) => r.state === 'trial');
        assert.ok(trial.length > 0, 'on trial first');
        const healthy = trial.find((r) => r.trial?.healthy === true);
        assert.ok(healthy, 'the trial saw the gateway healthy');
        assert.equal(healthy!.trial!.checks.map((c) => c.name).sort(), ['config', 'reachable', 'sip']);
        assert.equal(await readBootEnv(join(gw.dataDir, 'slots-sim')), { primary: 'b', armed: null, tries: 0 });
        assert.equal((await status()).firmware, { version: next, slot: 'b' });
        const mqttStatus = await waitUntil(
          () => statuses.find((s) => (s.firmware as { slot?: string } | undefined)?.slot === 'b'),
          { timeoutMs: 5_000, what: 'the MQTT status with slot b' },
        );
        assert.equal(mqttStatus.firmware, { version: next, slot: 'b' });

        // Calls work again: phones register to the new process (baresip 1.0 cannot be told to
        // register again, so they start afresh, as desk phones do after a reboot) and call.
        for (const p of phones.splice(0)) await p.stop();
        const nurse = await phone('203', 1500, 'after');
        await phone('202', 1100, 'after');
        await nurse.dial(gwUri('202'));
        await nurse.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        assert.is((await status()).activeCalls, 1);
        await nurse.hangup();
      })(),
      90_000,
      'the OTA update through the gateway',
    );
  } finally {
    for (const p of phones) await p.stop().catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    await fleet?.endAsync(true).catch(() => undefined);
    await server?.close().catch(() => undefined);
    await broker?.destroy().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
