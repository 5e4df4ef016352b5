/**
 * The media benchmark's delay probe (tests/bench/sip/rtp-probe.ts) measures
 * what a relay adds, per packet: with two stand-in "gateway" relays that
 * hold every packet 8 ms (udp-relay.ts --delay-ms) the probe must report an
 * added delay of about 8 ms, and about nothing with relays that do not wait.
 * Everything runs in a namespace the test makes, on its lo.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { startRtpProbe } from '../../bench/sip/rtp-probe-client.js';
import { createNamespace, nsSpawn, removeNamespace } from '../../support/netns.js';
import type { ManagedProcess } from '../../support/proc.js';
import { sleep, waitUntil } from '../../support/proc.js';

const RELAY = fileURLToPath(new URL('../../bench/sip/udp-relay.ts', import.meta.url));
const A = 41000;
const B = 41100;
const GW_A = 42000;
const GW_B = 42002;

async function measure(delayMs: number): Promise<{ p50: number; p99: number; n: number; lost: number }> {
  const ns = await createNamespace('probe');
  const relays: ManagedProcess[] = [];
  try {
    // What enters "leg A" leaves toward the probe's B socket, and the other way round, as through a call.
    for (const [listen, to] of [[GW_A, B], [GW_B, A]] as const) {
      const p = nsSpawn(ns, process.execPath, ['--import', 'tsx', RELAY, '--listen', String(listen), '--to', String(to), '--delay-ms', String(delayMs)]);
      relays.push(p);
      await waitUntil(() => p.output.toString().includes('ready'), { timeoutMs: 15_000, what: 'a stand-in relay' });
    }
    const probe = await startRtpProbe({ netns: ns, aPort: A, bPort: B, gwA: GW_A, gwB: GW_B });
    try {
      await probe.window();
      await sleep(4_000);
      const w = await probe.window();
      return { p50: w.pairedAddedUs.p50 / 1000, p99: w.pairedAddedUs.p99 / 1000, n: w.pairedAddedUs.n, lost: w.throughGateway.lost };
    } finally {
      await probe.stop();
    }
  } finally {
    for (const p of relays) await p.stop({ graceMs: 1_000 });
    await removeNamespace(ns);
  }
}

test('a relay that holds each packet 8 ms is measured as adding about 8 ms; one that does not, as adding nearly nothing', async () => {
  const slow = await measure(8);
  assert.ok(slow.n >= 100, `${slow.n} packets paired`);
  assert.is(slow.lost, 0);
  assert.ok(slow.p50 >= 7.5 && slow.p50 < 12, `added p50 ${slow.p50.toFixed(3)} ms with an 8 ms relay`);
  const fast = await measure(0);
  assert.ok(fast.n >= 100, `${fast.n} packets paired`);
  assert.ok(fast.p50 < 2, `added p50 ${fast.p50.toFixed(3)} ms with a relay that does not wait`);
  assert.ok(slow.p50 - fast.p50 > 6, 'the difference is the 8 ms');
});

test.run();
