/**
 * Issue 6's proof, against real peers in namespaces (world.ts): the cloud
 * SBC over HSCN and a carrier's trunk (both Kamailio; the trunk challenges
 * REGISTER and INVITE), baresip far ends and desk phones that play tones.
 *
 * One story, in order: normal mode (an external call and 999 go to the
 * cloud; emergency calls the cloud refuses or swallows go out over the
 * trunk; an inbound call from the cloud reaches its extension); an internal
 * call is up when HSCN is cut silently (pfifo limit 0 both ends); the
 * gateway goes to survivability, the internal call carries on, 999 and an
 * external call go out over the trunk with audio both ways, an inbound call
 * to the practice DID over the trunk rings the hunt group and is answered;
 * HSCN comes back and the gateway fails back only after recoverAfterMs,
 * without dropping the trunk call in progress; finally the HSCN interface
 * is set down and the switch is near instant.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyzeWav, withinPercent } from '../../support/audio.js';
import type { BaresipPhone } from '../../support/baresip.js';
import { ifaceCounters } from '../../support/netns.js';
import { sleep, withTimeout } from '../../support/proc.js';
import { createUplinkWorld, FAR_NUMBER_NATIONAL, PRACTICE_DID, SILENT_EMERGENCY, TONES, type UplinkWorld } from './world.js';

/** In the carrier's range that reaches the gateway's registration, but not in practice.inbound. */
const NOT_OUR_DID = '+441632960099';

const PROBE = { intervalMs: 300, failAfter: 2, recoverAfterMs: 3000 };

/** The tone in a phone's newest recording. */
function heard(p: BaresipPhone): number {
  return analyzeWav(p.recordedWav()).dominantHz;
}

async function callAndHangUp(w: UplinkWorld, from: BaresipPhone, uri: string, far: BaresipPhone, talkMs = 1500): Promise<void> {
  const farMark = far.events.length;
  await from.dial(uri);
  await from.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
  await far.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000, since: farMark });
  await sleep(talkMs);
  await from.hangup();
  await from.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
  await far.waitFor('CALL_CLOSED', { timeoutMs: 5_000, since: farMark });
  void w;
}

/** RTP packets arriving on an interface over `ms`. */
async function packetsIn(netns: string, iface: string, ms: number): Promise<number> {
  const a = await ifaceCounters(netns, iface);
  await sleep(ms);
  const b = await ifaceCounters(netns, iface);
  return b.rxPackets - a.rxPackets;
}

test('survivability: silent HSCN cut, calls over the trunk, inbound DID, 999 in both modes, failback without drops, interface down', async () => {
  const w = await createUplinkWorld({ net: '10.94', probe: PROBE });
  const { alice, bob, carol, dave } = w.phones as Record<string, BaresipPhone>;
  try {
    await withTimeout(
      (async () => {
        const gwUri = (user: string) => `sip:${user}@${w.addr.gwLan}`;
        // ── normal mode ──
        await w.waitForMode('normal', 0);
        const s0 = await w.status();
        assert.is(s0.mode, 'normal');
        assert.equal(s0.uplinks, [
          { name: 'cloud', state: 'up' },
          { name: 'backup', state: 'standby' },
        ], 'the trunk is registered in hot standby');

        await callAndHangUp(w, alice!, gwUri(FAR_NUMBER_NATIONAL), w.cloudFar);
        assert.ok(withinPercent(heard(alice!), TONES.cloudFar), `alice heard the cloud far end: ${heard(alice!)} Hz`);
        assert.ok(withinPercent(heard(w.cloudFar), TONES.alice), `the cloud far end heard alice: ${heard(w.cloudFar)} Hz`);
        assert.is(w.cloudFar.rtpSources().at(-1)?.ip, w.addr.gwHscn, "the cloud's media came from the gateway's HSCN address");

        await callAndHangUp(w, bob!, gwUri('999'), w.cloudFar, 800);
        assert.ok(w.gw.logs().some((l) => l.msg === 'emergency call'), '999 logged');
        // The cloud refuses 112 (503): the trunk takes it. It swallows 911: the trunk takes it after the no-progress bound.
        await callAndHangUp(w, bob!, gwUri('112'), w.trunkFar, 500);
        const t0 = Date.now();
        await callAndHangUp(w, bob!, gwUri(SILENT_EMERGENCY), w.trunkFar, 500);
        assert.ok(Date.now() - t0 < 9_000, `the silent cloud held 911 for ${Date.now() - t0} ms`);
        assert.ok(w.gw.logs().some((l) => l.msg === 'no response in time: trying the next' && l.member === 'cloud'));
        assert.is((await w.status()).mode, 'normal', 'a refused emergency call is not a failover');

        // An inbound call from the cloud by extension number.
        const daveMark = dave!.events.length;
        await w.cloudFar.dial(`sip:204@${w.addr.cloud}`);
        await dave!.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000, since: daveMark });
        await sleep(1000);
        await w.cloudFar.hangup();
        await dave!.waitFor('CALL_CLOSED', { timeoutMs: 5_000, since: daveMark });
        assert.ok(withinPercent(heard(dave!), TONES.cloudFar), `dave heard the cloud caller: ${heard(dave!)} Hz`);

        // ── an internal call is up when HSCN is cut silently ──
        const carolMark = carol!.events.length;
        const bobMark = bob!.events.length;
        await bob!.dial(gwUri('203'));
        await bob!.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        await carol!.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000, since: carolMark });

        const cutAt = Date.now();
        await w.topo.link('gw', 'cloud').cut();
        const survAt = await w.waitForMode('survivability', cutAt, 10_000);
        const detectMs = survAt - cutAt;
        // failAfter lost probes: between (failAfter - 1) and failAfter intervals plus one timeout.
        assert.ok(detectMs >= PROBE.intervalMs && detectMs <= (PROBE.failAfter + 1) * PROBE.intervalMs + 500, `survivability ${detectMs} ms after the cut`);
        console.log(`silent cut → survivability: ${detectMs} ms`);
        const s1 = await w.status();
        assert.is(s1.mode, 'survivability');
        assert.equal(s1.uplinks, [
          { name: 'cloud', state: 'down' },
          { name: 'backup', state: 'up' },
        ]);

        // The internal call carries on: still up, media still flowing to the desk phones.
        await sleep(1500);
        assert.is(bob!.events.slice(bobMark).filter((e) => e.type === 'CALL_CLOSED').length, 0, 'the internal call was not dropped');
        assert.ok((await packetsIn(w.topo.ns('lan'), w.topo.iface('lan', 'gw'), 1000)) > 80, 'RTP still reaches the LAN');
        await bob!.hangup();
        await bob!.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        assert.ok(withinPercent(heard(carol!), TONES.bob), `carol heard bob across the cut: ${heard(carol!)} Hz`);

        // ── survivability: 999 over the trunk ──
        // The carrier challenges every initial INVITE (407): the call connects only with the trunk's credentials.
        await callAndHangUp(w, bob!, gwUri('999'), w.trunkFar, 800);

        // ── an inbound call to the practice DID over the trunk rings the hunt group ──
        const aliceMark = alice!.events.length;
        const daveMark2 = dave!.events.length;
        await w.trunkFar.dial(`sip:${PRACTICE_DID}@${w.addr.trunk}`);
        await alice!.waitFor('CALL_INCOMING', { timeoutMs: 10_000, since: aliceMark });
        await dave!.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000, since: daveMark2 });
        await w.trunkFar.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        await alice!.waitFor('CALL_CLOSED', { timeoutMs: 5_000, since: aliceMark }); // the other fork is cancelled
        await sleep(1500);
        await dave!.hangup();
        await w.trunkFar.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        assert.ok(withinPercent(heard(dave!), TONES.trunkFar), `dave heard the trunk caller: ${heard(dave!)} Hz`);
        assert.ok(withinPercent(heard(w.trunkFar), TONES.dave), `the trunk caller heard dave: ${heard(w.trunkFar)} Hz`);

        // A number of the carrier's range the practice does not own: refused, nobody rings.
        const farMark = w.trunkFar.events.length;
        const daveMark3 = dave!.events.length;
        await w.trunkFar.dial(`sip:${NOT_OUR_DID}@${w.addr.trunk}`);
        const closed = await w.trunkFar.waitFor('CALL_CLOSED', { timeoutMs: 10_000, since: farMark });
        assert.match(closed.param ?? '', /404/, `refused with 404: ${closed.param}`);
        assert.ok(w.gw.logs().some((l) => l.msg === 'inbound call refused: not a number of this practice' && l.called === NOT_OUR_DID), 'by the gateway');
        assert.is(dave!.events.slice(daveMark3).filter((e) => e.type === 'CALL_ESTABLISHED').length, 0);

        // ── an outbound call over the trunk, kept up across failback ──
        const trunkMark = w.trunkFar.events.length;
        await alice!.dial(gwUri(FAR_NUMBER_NATIONAL));
        await alice!.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        await w.trunkFar.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000, since: trunkMark });
        assert.match(alice!.log() + w.trunkFar.log(), /P-Asserted-Identity: <sip:\+441632960000@/, 'the main number is presented');
        assert.is(w.trunkFar.rtpSources().at(-1)?.ip, w.addr.gwWan, "the trunk's media came from the gateway's WAN address");

        const restoreAt = Date.now();
        await w.topo.link('gw', 'cloud').restore();
        const backAt = await w.waitForMode('normal', restoreAt, 15_000);
        console.log(`HSCN restored → normal: ${backAt - restoreAt} ms (recoverAfterMs ${PROBE.recoverAfterMs})`);
        assert.ok(backAt - restoreAt >= PROBE.recoverAfterMs, `failback ${backAt - restoreAt} ms after HSCN returned: not before recoverAfterMs`);
        assert.ok(backAt - restoreAt <= PROBE.recoverAfterMs + 3 * PROBE.intervalMs + 500, `failback took ${backAt - restoreAt} ms`);
        assert.equal((await w.status()).uplinks, [
          { name: 'cloud', state: 'up' },
          { name: 'backup', state: 'standby' },
        ]);
        // The trunk call carries on after failback: nobody hung up, media still flows both ways.
        await sleep(1000);
        assert.is(w.trunkFar.events.slice(trunkMark).filter((e) => e.type === 'CALL_CLOSED').length, 0, 'the trunk call survived failback');
        assert.ok((await packetsIn(w.topo.ns('trunk'), w.topo.iface('trunk', 'gw'), 1000)) > 40, 'RTP still reaches the trunk');
        assert.ok((await packetsIn(w.topo.ns('lan'), w.topo.iface('lan', 'gw'), 1000)) > 40, 'RTP still reaches alice');
        await alice!.hangup();
        await alice!.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        await w.trunkFar.waitFor('CALL_CLOSED', { timeoutMs: 5_000, since: trunkMark });
        assert.ok(withinPercent(heard(alice!), TONES.trunkFar), `alice heard the trunk far end: ${heard(alice!)} Hz`);
        assert.ok(withinPercent(heard(w.trunkFar), TONES.alice), `the trunk far end heard alice: ${heard(w.trunkFar)} Hz`);
        assert.ok(w.gw.logs().some((l) => l.msg === 'call ended' && l.disposition === 'answered' && l.cause === 'bye-caller'));

        // Back in normal mode, external calls go to the cloud again.
        await callAndHangUp(w, bob!, gwUri(FAR_NUMBER_NATIONAL), w.cloudFar, 800);

        // ── the HSCN interface goes down: near instant ──
        const downAt = Date.now();
        await w.topo.link('gw', 'cloud').down('a');
        const survAt2 = await w.waitForMode('survivability', downAt, 5_000);
        console.log(`interface down → survivability: ${survAt2 - downAt} ms`);
        assert.ok(survAt2 - downAt < 1000, `survivability ${survAt2 - downAt} ms after the interface went down`);
        const down = w.gw.logs().find((l) => l.msg === 'mode survivability: the cloud is unreachable (link-down); external calls go over the backup trunks');
        assert.ok(down, 'the reason is the link');
        await callAndHangUp(w, bob!, gwUri('112'), w.trunkFar, 800);
        const upAt = Date.now();
        await w.topo.link('gw', 'cloud').up('a');
        const backAt2 = await w.waitForMode('normal', upAt, 15_000);
        assert.ok(backAt2 - upAt >= PROBE.recoverAfterMs, `failback ${backAt2 - upAt} ms after the interface came back`);
      })(),
      150_000,
      'the failover story',
    );
  } catch (e) {
    if (process.env.PGW_TEST_DEBUG) {
      console.log(w.gw.proc.output.toString().slice(-20000));
      console.log(w.trunkProvider.log().slice(-4000));
    }
    throw e;
  } finally {
    await w.close();
  }
});

test.run();
