/**
 * The kernel fast path with real phones: two baresip phones on the LAN call
 * each other; once the call's media is steady the gateway hands it to
 * nftables (GET /api/v1/calls says `forwarding: kernel` on both legs), and
 * from then on the audio each phone hears has crossed the kernel path: the
 * counters keep rising while the relay's sockets see nothing, each phone
 * still hears the other's tone, from the gateway's address and ports. The
 * nft table in the gateway's namespace shows the two flows with their
 * counters, and they are gone when the call ends.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CallView } from '../../../firmware/src/admin/status-provider.js';
import { analyzeWav, withinPercent } from '../../support/audio.js';
import { nsRun } from '../../support/netns.js';
import { sleep, waitUntil, withTimeout } from '../../support/proc.js';
import { testPractice } from '../../support/gateway.js';
import { aliceCallsBob, createPbxWorld, EXTENSIONS, type PbxWorld } from './world.js';

async function nftFlows(netns: string): Promise<string> {
  const r = await nsRun(netns, 'nft', ['list', 'map', 'netdev', 'pgw_media', 'leg_in']);
  return r.stdout;
}

/** Resolves when every leg of the (one) answered call is forwarded the given way. */
function legsForwardedBy(w: PbxWorld, how: 'user' | 'kernel', timeoutMs: number): Promise<CallView> {
  return waitUntil(
    async () => {
      const { calls } = await w.api<{ calls: CallView[] }>('/api/v1/calls');
      const c = calls[0];
      return c && c.legs.length === 2 && c.legs.every((l) => l.media?.forwarding === how) ? c : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `both legs forwarded by ${how === 'kernel' ? 'the kernel' : 'the relay'}` },
  );
}

test('a steady call between LAN phones goes to the kernel, keeps its audio and counters, and comes out when it ends', async () => {
  const w = await createPbxWorld({ subnet: '10.91.7.0/24' });
  try {
    await withTimeout(
      (async () => {
        const { alice, bob } = await aliceCallsBob(w);

        const kernelCall = await legsForwardedBy(w, 'kernel', 8_000);
        const status = await w.api<{ media?: { kernelForwarding: boolean; kernelLegs: number } }>('/api/v1/status');
        assert.equal(status.media && { on: status.media.kernelForwarding, legs: status.media.kernelLegs }, { on: true, legs: 2 }, 'the status says so too');
        const before = kernelCall.legs.map((l) => l.media!);
        const gwNs = w.topo.ns('gw');
        const table = await nftFlows(gwNs);
        for (const m of before) {
          const [, port] = m.local.split(':');
          assert.match(table, new RegExp(`${port} \\. ${w.lanAddr.replace(/\./g, '\\.')} \\. \\d+ \\. \\S+ counter packets \\d+`), `a kernel flow enters on ${m.local}`);
        }

        // Three seconds in the kernel: the counters (brought up from nft) keep rising, both ways.
        await sleep(3_000);
        const { calls } = await w.api<{ calls: CallView[] }>('/api/v1/calls');
        const after = calls[0]!.legs.map((l) => l.media!);
        for (let i = 0; i < 2; i++) {
          assert.is(after[i]!.forwarding, 'kernel');
          const gotIn = after[i]!.packetsIn - before[i]!.packetsIn;
          const gotOut = after[i]!.packetsOut - before[i]!.packetsOut;
          assert.ok(gotIn >= 100 && gotOut >= 100, `leg ${i}: ${gotIn} in, ${gotOut} out over 3 s in the kernel`);
        }
        const inKernel = await nftFlows(gwNs);
        // One element per payload type passed unchanged; the ones carrying the call's codec counted it.
        const byPort = new Map<string, number>();
        for (const m of inKernel.matchAll(/(\d+) \. \S+ \. \d+ \. \S+ counter packets (\d+)/g)) byPort.set(m[1]!, (byPort.get(m[1]!) ?? 0) + Number(m[2]));
        assert.is(byPort.size, 2, 'flows enter on the two legs\' ports');
        for (const [port, p] of byPort) assert.ok(p >= 100, `the kernel forwarded ${p} packets entering on ${port}`);

        await alice.hangup();
        await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        await waitUntil(async () => !/counter packets/.test(await nftFlows(gwNs)), { timeoutMs: 5_000, what: 'the kernel flows removed' });

        // What each phone heard, most of it through the kernel path.
        const heardByAlice = analyzeWav(alice.recordedWav());
        const heardByBob = analyzeWav(bob.recordedWav());
        assert.ok(withinPercent(heardByAlice.dominantHz, 1500), `alice heard ${heardByAlice.dominantHz} Hz`);
        assert.ok(withinPercent(heardByBob.dominantHz, 1000), `bob heard ${heardByBob.dominantHz} Hz`);
        assert.ok(heardByAlice.activeSec > 3, `alice heard ${heardByAlice.activeSec} s of audio`);
        assert.ok(heardByBob.activeSec > 3, `bob heard ${heardByBob.activeSec} s of audio`);
        for (const [who, phone] of [['alice', alice], ['bob', bob]] as const) {
          for (const src of phone.rtpSources()) assert.is(src.ip, w.gwAddr, `${who}'s RTP came from the gateway`);
        }
      })(),
      60_000,
      'kernel forwarding test',
    );
  } catch (e) {
    const lines = w.gw.proc.output.toString().split('\n').filter((l) => /kernel|nft|offload|media (bridged|latched)/.test(l));
    console.error(lines.slice(-30).join('\n'));
    throw e;
  } finally {
    await w.close();
  }
});

test('in the kernel: hold takes the call out and resume puts it back; a phone that dies there is dead media', async () => {
  const w = await createPbxWorld({ subnet: '10.91.8.0/24', practice: testPractice({ extensions: EXTENSIONS, calls: { deadMediaSeconds: 5 } }) });
  try {
    await withTimeout(
      (async () => {
        const { alice, bob } = await aliceCallsBob(w);
        await legsForwardedBy(w, 'kernel', 8_000);

        // Hold: new SDP (sendonly/recvonly) takes the pair back to the relay, which applies it.
        await alice.hold();
        await legsForwardedBy(w, 'user', 5_000);
        await sleep(1_500);
        assert.not.ok(/counter packets/.test(await nftFlows(w.topo.ns('gw'))), 'no kernel flow while on hold');
        // Resume: steady again, so back in the kernel (after the 3 s pause a pair takes before going back).
        await alice.resume();
        await legsForwardedBy(w, 'kernel', 10_000);

        // Bob's phone dies without a BYE: the kernel's counter for his leg stops, and the relay,
        // which reads it each second, finds the leg silent for deadMediaSeconds and ends the call.
        const killedAt = Date.now();
        await bob.proc.stop({ signal: 'SIGKILL' });
        await alice.waitFor('CALL_CLOSED', { timeoutMs: 12_000 });
        const after = Date.now() - killedAt;
        assert.ok(after >= 4_000 && after <= 9_000, `hung up ${after} ms after bob's phone died (deadMediaSeconds 5)`);
        const ended = await w.callEnded((l) => l.cause === 'dead-media');
        assert.is(ended.disposition, 'answered');
        await waitUntil(async () => !/counter packets/.test(await nftFlows(w.topo.ns('gw'))), { timeoutMs: 5_000, what: 'the kernel flows removed' });
      })(),
      70_000,
      'kernel forwarding: hold, resume, dead media',
    );
  } catch (e) {
    console.error(w.gw.proc.output.toString().split('\n').filter((l) => /kernel|nft|offload|dead|media (bridged|latched)/.test(l)).slice(-30).join('\n'));
    throw e;
  } finally {
    await w.close();
  }
});

test.run();
