/**
 * Proves the phone harness with no gateway: two baresip phones in two network
 * namespaces joined by a veth pair call each other directly, each plays its
 * own tone, and each recording holds the other's tone. This is the pattern the
 * gateway tests reuse, with the gateway in the middle.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeWav, makeTone, withinPercent } from '../../support/audio.js';
import { BaresipPhone } from '../../support/baresip.js';
import { createTopology, listNamespaces } from '../../support/netns.js';
import type { Topology } from '../../support/netns.js';
import { sleep, withTimeout } from '../../support/proc.js';

test('two phones in two namespaces call each other and hear each other', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-p2p-'));
  let topo: Topology | undefined;
  const phones: BaresipPhone[] = [];
  try {
    await withTimeout(
      (async () => {
        topo = await createTopology({ nodes: ['a', 'b'], links: [{ a: 'a', b: 'b', subnet: '10.90.1.0/24' }] });
        const toneA = await makeTone({ path: join(dir, 'a-1000.wav'), freqHz: 1000, seconds: 30 });
        const toneB = await makeTone({ path: join(dir, 'b-1500.wav'), freqHz: 1500, seconds: 30 });
        const alice = await BaresipPhone.start({
          name: 'alice', netns: topo.ns('a'), listenIp: topo.addr('a', 'b'), user: '201', toneWav: toneA, workDir: join(dir, 'alice'),
        });
        phones.push(alice);
        const bob = await BaresipPhone.start({
          name: 'bob', netns: topo.ns('b'), listenIp: topo.addr('b', 'a'), user: '202', answerMode: 'auto', toneWav: toneB, workDir: join(dir, 'bob'),
        });
        phones.push(bob);

        await alice.dial(bob.directUri);
        await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        const inbound = await bob.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        assert.is(inbound.direction, 'incoming');
        assert.match(inbound.peeruri ?? '', /^sip:201@10\.90\.1\.1/);
        await sleep(3_000); // three seconds of tone each way
        await alice.hangup();
        await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });

        // Each heard the other's tone, not its own.
        const heardByAlice = analyzeWav(alice.recordedWav());
        const heardByBob = analyzeWav(bob.recordedWav());
        assert.ok(withinPercent(heardByAlice.dominantHz, 1500), `alice heard ${heardByAlice.dominantHz} Hz, want 1500`);
        assert.ok(withinPercent(heardByBob.dominantHz, 1000), `bob heard ${heardByBob.dominantHz} Hz, want 1000`);
        assert.ok(heardByAlice.activeSec > 2, `alice heard only ${heardByAlice.activeSec} s`);
        assert.ok(heardByBob.activeSec > 2, `bob heard only ${heardByBob.activeSec} s`);
        assert.ok(heardByAlice.rmsDbfs > -20, `alice's recording is too quiet: ${heardByAlice.rmsDbfs} dBFS`);
        // RTP came straight from the other phone's address.
        assert.equal(alice.rtpSources()[0]?.ip, topo.addr('b', 'a'));
        assert.equal(bob.rtpSources()[0]?.ip, topo.addr('a', 'b'));
      })(),
      40_000,
      'p2p call test',
    );
  } finally {
    for (const p of phones) await p.stop();
    const names = topo ? topo.nodes.map((n) => topo!.ns(n)) : [];
    await topo?.destroy();
    rmSync(dir, { recursive: true, force: true });
    for (const n of names) assert.not.ok(listNamespaces().includes(n), `namespace ${n} left behind`);
  }
});

test.run();
