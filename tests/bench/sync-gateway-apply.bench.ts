/**
 * Issue 3's config benchmark against the real gateway: milliseconds from
 * publishing `config/desired` to the gateway's `config/reported`, for
 * practices of 10, 200 and 1,000 extensions. Unlike sync-config-apply (the
 * sync layer with a fake applier), this includes the gateway's own live
 * apply (directory rebuild, registrations of removed extensions dropped) and
 * the store's fsync. Broker (mosquitto) and gateway run on 127.0.0.1.
 */
import { join } from 'node:path';
import type { Bench, BenchResult } from './bench-api.js';
import { startGateway, testPractice, type GatewayUnderTest } from '../support/gateway.js';
import { freeUdpPort } from '../support/ports.js';
import { CloudClient } from '../integration/sync/support/cloud.js';
import { startMosquitto, type Mosquitto } from '../integration/sync/support/mosquitto.js';

const DEVICE = 'pgw-test';
const SIZES = [10, 200, 1000];
const ROUNDS = 10;

function practiceOf(version: number, size: number, sipPort: number): Record<string, unknown> {
  // Each version renames one extension so that every push is a real change to apply.
  const extensions = Array.from({ length: size }, (_, i) => ({
    number: String(2000 + i),
    name: i === 0 ? `Desk v${version}` : `Desk ${i}`,
    password: `pw-${2000 + i}-secret-x`,
  }));
  const p = testPractice({ extensions });
  return { ...p, version, sip: { ...(p.sip as object), listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }] } };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const bench: Bench = {
  name: 'sync-gateway-apply',
  title: 'config/desired → config/reported through the real gateway',
  issue: 3,
  timeoutMs: 180_000,
  async run(ctx): Promise<BenchResult> {
    let broker: Mosquitto | undefined;
    let gw: GatewayUnderTest | undefined;
    let cloud: CloudClient | undefined;
    const rows: Array<Array<string | number>> = [];
    const figures: BenchResult['figures'] = [];
    try {
      broker = await startMosquitto();
      const sipPort = await freeUdpPort();
      const adminPort = await freeUdpPort();
      cloud = await CloudClient.connect(broker.url);
      await cloud.subscribe(`pgw/v1/${DEVICE}/#`);
      gw = await startGateway({
        dir: join(ctx.workDir, 'gw'),
        practice: practiceOf(1, 10, sipPort),
        device: { admin: { listen: `127.0.0.1:${adminPort}` }, cloud: { mqtt: { url: broker.url } } },
      });
      await cloud.waitFor((m) => m.topic.endsWith('/status') && (m.json as { online?: boolean })?.online === true, 'the box online', 20_000);
      let version = 1;
      for (const size of SIZES) {
        const times: number[] = [];
        for (let r = 0; r < ROUNDS + 1; r++) {
          version += 1;
          const doc = { version, practice: practiceOf(version, size, sipPort) };
          const v = version;
          const started = performance.now();
          await cloud.publish(`pgw/v1/${DEVICE}/config/desired`, doc, { qos: 1, retain: true });
          const rep = await cloud.waitFor(
            (m) => m.topic.endsWith('/config/reported') && (m.json as { version?: number }).version === v,
            `config/reported v${v}`,
            20_000,
          );
          const ms = performance.now() - started;
          if ((rep.json as { status: string }).status !== 'applied') throw new Error(`v${v} was not applied: ${JSON.stringify(rep.json)}`);
          // The first push at a new size also grows the practice from the previous size: not counted.
          if (r > 0) times.push(ms);
        }
        times.sort((a, b) => a - b);
        const median = percentile(times, 0.5);
        const worst = times[times.length - 1]!;
        rows.push([size, times.length, median.toFixed(1), percentile(times, 0.99).toFixed(1), worst.toFixed(1)]);
        ctx.log(`${size} extensions: median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`);
        figures.push({
          label: `desired → reported, ${size} extensions, median (worst) of ${times.length}`,
          value: `${median.toFixed(1)} (${worst.toFixed(1)})`,
          unit: 'ms',
          ...(size === 200 ? { target: '< 200 at 200', met: worst < 200 } : {}),
        });
      }
    } finally {
      await gw?.stop().catch(() => undefined);
      await cloud?.end().catch(() => undefined);
      await broker?.stop().catch(() => undefined);
    }
    return {
      figures,
      method: [
        'The real gateway (`pgw run` from the source through tsx, log level info) with a cloud configured, a mosquitto broker and a test MQTT client, all on 127.0.0.1.',
        `For each practice size, ${ROUNDS + 1} versions are published to \`config/desired\` one after another (each renames one extension, so each is a change to apply); the time is from the publish call to the arrival of the matching \`config/reported\` at the test client, which includes validation, the diff, the gateway's live apply, the store's fsync and both MQTT hops. The first push at each size (which grows the practice) is not counted.`,
      ],
      tables: [{ caption: 'desired → reported (ms)', columns: ['extensions', 'n', 'median', 'p99', 'max'], rows }],
    };
  },
};

export default bench;
