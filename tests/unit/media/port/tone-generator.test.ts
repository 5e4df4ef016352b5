import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToneGenerator, UK_BUSY, UK_DIAL, UK_RINGBACK, dbm0ToAmplitude } from '../../../../firmware/src/media/port/tone-generator.js';
import { goertzel, rms } from '../support/signal.js';

function render(gen: ToneGenerator, ms: number): Int16Array {
  const frames = ms / 20;
  const out = new Int16Array(frames * gen.samplesPerFrame);
  const f = new Int16Array(gen.samplesPerFrame);
  for (let i = 0; i < frames; i++) {
    assert.ok(gen.getFrame(f));
    out.set(f, i * gen.samplesPerFrame);
  }
  return out;
}

test('UK ringback: 400 + 450 Hz with the 0.4/0.2/0.4/2.0 s cadence', () => {
  const x = render(new ToneGenerator({ spec: UK_RINGBACK }), 3000);
  const ms = (t: number): number => (t * 8000) / 1000;
  // On 0–400, off 400–600, on 600–1000, off 1000–3000.
  assert.ok(rms(x, ms(0), ms(400)) > 1000);
  assert.is(rms(x, ms(400), ms(600)), 0);
  assert.ok(rms(x, ms(600), ms(1000)) > 1000);
  assert.is(rms(x, ms(1000), ms(3000)), 0);
  const on = x.subarray(0, ms(400));
  const p400 = goertzel(on, 400, 8000);
  const p450 = goertzel(on, 450, 8000);
  const p1000 = goertzel(on, 1000, 8000);
  assert.ok(p400 > 100 * p1000 && p450 > 100 * p1000, 'energy at 400 and 450 Hz');
  assert.ok(Math.abs(10 * Math.log10(p400 / p450)) < 1, 'equal levels');
});

test('continuous and on/off tones, at 16 kHz too; levels', () => {
  const dial = render(new ToneGenerator({ spec: UK_DIAL, sampleRate: 16000 }), 200);
  assert.is(dial.length, 3200);
  assert.ok(goertzel(dial, 350, 16000) > 100 * goertzel(dial, 1000, 16000));
  const busy = render(new ToneGenerator({ spec: UK_BUSY }), 760);
  assert.ok(rms(busy, 0, 3000) > 1000);
  assert.is(rms(busy, 3000, 6000), 0);
  // A single −13 dBm0 sine peaks where dbm0ToAmplitude says.
  const peak = Math.max(...busy.subarray(0, 3000).map(Math.abs));
  assert.ok(Math.abs(peak - dbm0ToAmplitude(-13)) < 2);
});

test.run();
