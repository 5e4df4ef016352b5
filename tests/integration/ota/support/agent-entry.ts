/**
 * A box's update agent as its own process, for the SIGKILL tests: the
 * parent sends the config as argv[2] (JSON) and talks over the IPC channel.
 *
 * Child → parent: { t: 'transition', state, seq }, { t: 'paused', at },
 * { t: 'reboot', arg } (then the process exits, as it would when systemd
 * stops it for the reboot). Parent → child: { t: 'calls', n }.
 *
 * `pauseAt` states (and `pauseInstallAt`, a fraction of the image) make the
 * agent stop right after persisting that step, so the parent's SIGKILL
 * lands exactly there.
 */
import { connectAsync } from 'mqtt';
import { SystemClock } from '../../../../firmware/src/util/clock.js';
import { mqttJsOtaLink } from '../../../../ota/agent/mqtt-link.js';
import { trustedKeyFromPem } from '../../../../ota/bundle/keys.js';
import { SimBox } from '../../../unit/ota/support/sim-box.js';
import type { SimBoxOptions } from '../../../unit/ota/support/sim-box.js';

export interface EntryConfig {
  root: string;
  deviceId: string;
  brokerUrl: string;
  trustedPem: string;
  pauseAt?: string[];
  pauseInstallAt?: number;
  tuning: SimBoxOptions['tuning'];
}

type ToParent = { t: 'transition'; state: string; seq: number } | { t: 'paused'; at: string } | { t: 'reboot'; arg: string | null };

function send(m: ToParent): Promise<void> {
  return new Promise((resolve) => process.send!(m, undefined, {}, () => resolve()));
}

const forever = (): Promise<never> => new Promise<never>(() => undefined);

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as EntryConfig;
  let paused = false;
  const box = new SimBox({
    root: cfg.root,
    clock: new SystemClock(),
    trustedKeys: [trustedKeyFromPem(cfg.trustedPem, 'test key')],
    tuning: cfg.tuning,
    deviceId: cfg.deviceId,
    link: async () => {
      const client = await connectAsync(cfg.brokerUrl, { protocolVersion: 5, clientId: `${cfg.deviceId}-${process.pid}`, clean: true, reconnectPeriod: 200 });
      return { link: mqttJsOtaLink(client, cfg.deviceId), close: () => client.endAsync(true) };
    },
    onTransition: async (rec) => {
      await send({ t: 'transition', state: rec.state, seq: rec.seq });
      if (!paused && cfg.pauseAt?.includes(rec.state)) {
        paused = true;
        await send({ t: 'paused', at: rec.state });
        await forever();
      }
    },
    onInstallProgress: async (bytes, total) => {
      if (!paused && cfg.pauseInstallAt !== undefined && bytes >= total * cfg.pauseInstallAt) {
        paused = true;
        await send({ t: 'paused', at: `install:${bytes}` });
        await forever();
      }
    },
  });
  box.board.reboot = async (o) => {
    await box.agent?.flushReport(1_000);
    await send({ t: 'reboot', arg: o.arg ?? null });
    process.exit(0);
  };
  process.on('message', (m: { t: string; n?: number }) => {
    if (m.t === 'calls') box.calls.active = m.n ?? 0;
  });
  await box.start();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(3);
});
