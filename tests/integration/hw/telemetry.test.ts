/**
 * The cloud telemetry of the real gateway on a dev-sim board (issue 5): the
 * same health sampler as the admin API, plus the 4G modem (the simulator on
 * a socat pty) and the PoE budget (the PoE simulator), published to
 * mosquitto as the cloud's broker. The modem losing its signal shows in the
 * next telemetry.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../firmware/src/util/clock.js';
import type { HardwareTelemetrySample } from '../../../firmware/src/wiring/hardware-telemetry.js';
import { ModemSimulator } from '../../../hw/modem/modem-simulator.js';
import { PoeSimulator } from '../../../hw/poe/poe-simulator.js';
import { startGateway, testPractice, type GatewayUnderTest } from '../../support/gateway.js';
import { freeUdpPort } from '../../support/ports.js';
import { withTimeout } from '../../support/proc.js';
import { CloudClient } from '../sync/support/cloud.js';
import { startMosquitto, type Mosquitto } from '../sync/support/mosquitto.js';
import { ptyRig } from './support/rig.js';

test('telemetry carries the modem, the PoE budget and the fan, from the health sample the admin API shows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-telem-'));
  const rig = ptyRig();
  const clock = new SystemClock();
  const savedEnv = { ...process.env };
  let gw: GatewayUnderTest | undefined;
  let broker: Mosquitto | undefined;
  let cloud: CloudClient | undefined;
  const sims: Array<{ dispose(): void }> = [];
  try {
    await withTimeout(
      (async () => {
        const modemDev = await rig.device('modem', '\r\n');
        const poeDev = await rig.device('poe', '\n');
        const modem = new ModemSimulator({ link: modemDev.simLink, clock, rebootMs: 300 });
        const poe = new PoeSimulator({ link: poeDev.simLink, clock, ports: 8 });
        sims.push(modem, poe);
        poe.plug(2, { mac: '00:15:65:00:02:02', powerClass: 2, drawMw: 4200 });
        broker = await startMosquitto();
        cloud = await CloudClient.connect(broker.url);
        const deviceId = 'pgw-telemetry';
        await cloud.subscribe(`pgw/v1/${deviceId}/telemetry`);

        const sipPort = await freeUdpPort();
        const adminPort = await freeUdpPort();
        const p = testPractice({ extensions: [{ number: '201', name: 'Reception 1', password: 'pw-201-secret' }] });
        const practice = { ...p, sip: { ...(p.sip as object), listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }] } };
        Object.assign(process.env, { PGW_SIM_DIR: rig.dir, PGW_IDENTITY_DIR: join(dir, 'identity') });
        gw = await startGateway({
          dir: join(dir, 'gw'),
          practice,
          device: { id: deviceId, board: 'dev-sim', admin: { listen: `127.0.0.1:${adminPort}` }, cloud: { mqtt: { url: broker.url }, telemetryIntervalSeconds: 1 } },
        });
        const c = cloud;
        const telemetry = async (pred: (t: HardwareTelemetrySample) => boolean, what: string) =>
          (await c.waitFor((m) => m.topic.endsWith('/telemetry') && pred(m.json as HardwareTelemetrySample), what, 30_000)).json as HardwareTelemetrySample & { deviceId: string };

        const up = await telemetry((t) => t.modem?.up === true && t.poe !== null, 'telemetry with the modem up and the PoE budget');
        assert.is(up.deviceId, deviceId);
        assert.is(up.modem?.operator, 'EE');
        assert.ok((up.modem?.signalBars ?? 0) > 0);
        assert.is(up.modem?.reason, 'ok');
        assert.equal(up.poe, { usedMw: 4200, maxMw: 120_000 });
        assert.is(up.fanRpm, null, 'dev-sim has no fan sensor');
        assert.ok(up.memory.totalBytes > 0);
        // The same health sample the admin API shows (one sampler for both).
        const hw = (await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/hardware`)).json()) as { health: { memory: { totalBytes: number }; disks: Array<{ mount: string }> } };
        assert.is(up.memory.totalBytes, hw.health.memory.totalBytes);
        assert.equal(up.disks.map((d) => d.mount), hw.health.disks.map((d) => d.mount));

        modem.loseSignal();
        const down = await telemetry((t) => t.modem?.up === false, 'telemetry with the modem down');
        assert.is.not(down.modem?.reason, 'ok');
      })(),
      90_000,
      'telemetry with the hardware',
    );
  } finally {
    process.env = savedEnv;
    await gw?.stop().catch(() => undefined);
    await cloud?.end().catch(() => undefined);
    await broker?.destroy().catch(() => undefined);
    for (const s of sims) s.dispose();
    await rig.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
