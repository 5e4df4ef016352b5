/**
 * The cloud uplink in `register` mode (issue 6): the gateway registers each
 * extension upstream with its own cloud account (the cloud's Kamailio
 * challenges the REGISTERs and INVITEs), so the platform reaches a desk
 * through the extension's own binding, and a desk's external call goes out
 * as its cloud account, answering the 407 with that account's credentials.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyzeWav, withinPercent } from '../../support/audio.js';
import { sleep, withTimeout } from '../../support/proc.js';
import { cloudUser, createUplinkWorld, FAR_NUMBER_NATIONAL, TONES } from './world.js';

test('register mode: extensions bound upstream, calls both ways as the extension\'s cloud account', async () => {
  const w = await createUplinkWorld({ net: '10.96', probe: { intervalMs: 300, failAfter: 2, recoverAfterMs: 3000 }, phones: ['alice', 'dave'], aliceAnswer: 'auto', cloudMode: 'register' });
  const { alice, dave } = w.phones;
  try {
    await withTimeout(
      (async () => {
        await w.waitForMode('normal', 0);
        // The platform reaches dave through the binding the gateway registered for him.
        await w.cloudFar.dial(`sip:${cloudUser('204')}@${w.addr.cloud}`);
        await dave!.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        await w.cloudFar.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
        await sleep(1500);
        await dave!.hangup();
        await w.cloudFar.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
        assert.ok(withinPercent(analyzeWav(dave!.recordedWav()).dominantHz, TONES.cloudFar), 'dave heard the cloud caller');

        // alice's external call goes out as her cloud account; the cloud challenged it (407) and let it through.
        const mark = w.cloudFar.events.length;
        await alice!.dial(`sip:${FAR_NUMBER_NATIONAL}@${w.addr.gwLan}`);
        await alice!.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        await w.cloudFar.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000, since: mark });
        await sleep(1500);
        await alice!.hangup();
        await w.cloudFar.waitFor('CALL_CLOSED', { timeoutMs: 5_000, since: mark });
        assert.match(w.cloudFar.log(), new RegExp(`From: "Reception 1" <sip:${cloudUser('201')}@`), "the far end saw alice's cloud account");
        assert.ok(withinPercent(analyzeWav(w.cloudFar.recordedWav()).dominantHz, TONES.alice), 'the far end heard alice');
        assert.ok(withinPercent(analyzeWav(alice!.recordedWav()).dominantHz, TONES.cloudFar), 'alice heard the far end');
      })(),
      60_000,
      'register mode',
    );
  } catch (e) {
    if (process.env.PGW_TEST_DEBUG) console.log(w.gw.proc.output.toString().slice(-15000), w.cloudSbc.log().slice(-4000));
    throw e;
  } finally {
    await w.close();
  }
});

test.run();
