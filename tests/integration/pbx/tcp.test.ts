/**
 * Phones registered over TCP (RFC 3261 §18, connection reuse): the gateway
 * must send calls to a TCP-registered phone back over the connection the
 * phone opened, and take calls from it, with media anchored as over UDP.
 * Alice registers over TCP, Bob over UDP; each calls the other.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyzeWav, withinPercent } from '../../support/audio.js';
import { sleep, withTimeout } from '../../support/proc.js';
import { createPbxWorld } from './world.js';

/** The header block of the first message in a baresip trace whose start line matches `start`. */
function headOf(trace: string, start: RegExp): string {
  const i = trace.search(start);
  if (i < 0) return '';
  const rest = trace.slice(i);
  return rest.slice(0, rest.search(/\n\s*\n/) + 1);
}

test('a TCP-registered phone calls a UDP phone and is called by it, audio both ways', async () => {
  const w = await createPbxWorld({ subnet: '10.91.10.0/24' });
  try {
    await withTimeout(
      (async () => {
        const alice = await w.phone({ name: 'alice', ext: '201', freqHz: 1000, sipPort: 5060, transport: 'tcp' });
        const bob = await w.phone({ name: 'bob', ext: '202', freqHz: 1500, sipPort: 5070 });
        await alice.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
        await bob.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
        const reg = await w.gw.waitForLog((l) => l.msg === 'registered' && l.aor === '201', 2_000);
        assert.match(String(reg.contact), /transport=tcp/i, 'alice registered a TCP contact');
        assert.match(headOf(alice.log(), /REGISTER sip:/), /Via: SIP\/2\.0\/TCP /, 'alice REGISTERs over TCP');

        // TCP phone calls out.
        await alice.dial(`sip:202@${w.gwAddr};transport=tcp`);
        await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        await bob.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        await sleep(2_500);
        await alice.hangup();
        await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        const first = { alice: analyzeWav(alice.recordedWav()), bob: analyzeWav(bob.recordedWav()) };
        assert.ok(withinPercent(first.alice.dominantHz, 1500), `alice heard ${first.alice.dominantHz} Hz`);
        assert.ok(withinPercent(first.bob.dominantHz, 1000), `bob heard ${first.bob.dominantHz} Hz`);
        await w.callEnded((l) => l.cause === 'bye-caller');

        // A new second for the recording file names (the harness README: calls in one second share a name).
        await sleep(1_100);
        // The UDP phone calls the TCP phone: the INVITE must reach alice over her connection.
        await bob.dial(`sip:201@${w.gwAddr}`);
        await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        await bob.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        await sleep(2_500);
        await alice.hangup(); // the callee hangs up this time, over TCP
        await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        const second = { alice: analyzeWav(alice.recordedWav()), bob: analyzeWav(bob.recordedWav()) };
        assert.is(alice.recordings().length, 2, 'alice has a recording per call');
        assert.ok(withinPercent(second.alice.dominantHz, 1500), `alice heard ${second.alice.dominantHz} Hz`);
        assert.ok(withinPercent(second.bob.dominantHz, 1000), `bob heard ${second.bob.dominantHz} Hz`);
        assert.match(headOf(alice.log(), /INVITE sip:201/), new RegExp(`Via: SIP/2\\.0/TCP ${w.gwAddr.replace(/\./g, '\\.')}[:;]`), 'the INVITE to alice came from the gateway over TCP');
        await w.callEnded((l) => l.cause === 'bye-callee');
        for (const p of [alice, bob]) assert.is(p.rtpSources().at(-1)?.ip, w.gwAddr, `${p.opts.name}'s RTP came from the gateway`);
      })(),
      60_000,
      'tcp',
    );
  } finally {
    await w.close();
  }
});

test.run();
