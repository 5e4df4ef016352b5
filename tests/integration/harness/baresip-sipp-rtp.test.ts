/**
 * Proves the scripted far end with media: SIPp runs uas-answer-rtp.xml in
 * one namespace and streams a 1200 Hz PCMU tone; a baresip phone in another
 * namespace calls it, hears the tone, and hangs up; SIPp counts one
 * successful call. This is the pattern for "a far end that answers and plays
 * a tone" behind the gateway. Then baresip puts a call to uas-answer.xml on
 * hold and back: SIPp's re-INVITE loop answers a real UA's offers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeWav, makeTone, makeUlawTone, withinPercent } from '../../support/audio.js';
import { BaresipPhone } from '../../support/baresip.js';
import { createTopology } from '../../support/netns.js';
import type { Topology } from '../../support/netns.js';
import { sleep, withTimeout } from '../../support/proc.js';
import { sippScenario, startSipp } from '../../support/sipp.js';
import type { SippProcess } from '../../support/sipp.js';

test('baresip calls SIPp uas-answer-rtp and hears its tone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-rtp-'));
  let topo: Topology | undefined;
  let phone: BaresipPhone | undefined;
  let uas: SippProcess | undefined;
  try {
    await withTimeout(
      (async () => {
        topo = await createTopology({ nodes: ['phone', 'far'], links: [{ a: 'phone', b: 'far', subnet: '10.90.4.0/24' }] });
        const farIp = topo.addr('far', 'phone');
        const sippDir = join(dir, 'sipp');
        mkdirSync(sippDir);
        await makeUlawTone({ path: join(sippDir, 'rtp-tone.ulaw'), freqHz: 1200, seconds: 10 });
        uas = startSipp({
          scenario: sippScenario('uas-answer-rtp.xml'), netns: topo.ns('far'), localIp: farIp, localPort: 5060,
          mediaIp: farIp, mediaPort: 6000, calls: 1, timeoutMs: 30_000, workDir: sippDir,
        });
        await uas.ready;
        phone = await BaresipPhone.start({
          name: 'caller', netns: topo.ns('phone'), listenIp: topo.addr('phone', 'far'), user: '201', codecs: ['PCMU'],
          toneWav: await makeTone({ path: join(dir, 'caller.wav'), freqHz: 700, seconds: 30 }), workDir: join(dir, 'caller'),
        });
        await phone.dial(`sip:300@${farIp}:5060`);
        await phone.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        await sleep(2_500);
        await phone.hangup();
        await phone.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });

        const heard = analyzeWav(phone.recordedWav());
        assert.ok(withinPercent(heard.dominantHz, 1200), `the phone heard ${heard.dominantHz} Hz, want 1200`);
        assert.ok(heard.activeSec > 1.5, `only ${heard.activeSec} s of audio`);
        assert.equal(phone.rtpSources()[0]?.ip, farIp);

        const res = await withTimeout(uas.done, 10_000, 'sipp to finish its one call');
        assert.ok(res.ok, res.report);
        assert.is(res.stats?.successful, 1, res.report);
      })(),
      45_000,
      'baresip to sipp rtp',
    );
  } finally {
    await uas?.stop();
    await phone?.stop();
    await topo?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('baresip hold/resume against SIPp uas-answer: both re-INVITEs answered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-hold-'));
  let topo: Topology | undefined;
  let phone: BaresipPhone | undefined;
  let uas: SippProcess | undefined;
  try {
    await withTimeout(
      (async () => {
        topo = await createTopology({ nodes: ['phone', 'far'], links: [{ a: 'phone', b: 'far', subnet: '10.90.4.0/24' }] });
        const farIp = topo.addr('far', 'phone');
        uas = startSipp({
          scenario: sippScenario('uas-answer.xml'), netns: topo.ns('far'), localIp: farIp, localPort: 5060,
          mediaIp: farIp, mediaPort: 6000, calls: 1, timeoutMs: 30_000, traceMessages: true,
        });
        await uas.ready;
        phone = await BaresipPhone.start({
          name: 'holder', netns: topo.ns('phone'), listenIp: topo.addr('phone', 'far'), user: '201',
          toneWav: await makeTone({ path: join(dir, 'holder.wav'), freqHz: 700, seconds: 30 }),
        });
        await phone.dial(`sip:300@${farIp}:5060`);
        await phone.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        const answers = (): number => phone!.events.filter((e) => e.type === 'CALL_REMOTE_SDP' && e.param === 'answer').length;
        assert.is(answers(), 1);
        await phone.hold();
        await phone.waitFor('CALL_REMOTE_SDP', { timeoutMs: 5_000, match: (e) => e.param === 'answer' });
        assert.match((await phone.command('listcalls')).data, /on hold/);
        await phone.resume();
        await phone.waitFor('CALL_REMOTE_SDP', { timeoutMs: 5_000, match: (e) => e.param === 'answer' });
        assert.is(answers(), 3);
        await phone.hangup();
        await phone.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });

        const res = await withTimeout(uas.done, 10_000, 'sipp to finish its one call');
        assert.ok(res.ok, res.report);
        assert.is(res.stats?.successful, 1, res.report);
        // SIPp answered the hold with recvonly and the resume with sendrecv.
        assert.match(res.messages, /a=sendonly[\s\S]*a=recvonly[\s\S]*a=sendrecv/);
      })(),
      45_000,
      'baresip hold against sipp',
    );
  } finally {
    await uas?.stop();
    await phone?.stop();
    await topo?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
