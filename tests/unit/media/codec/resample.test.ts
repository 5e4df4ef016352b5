import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Downsampler2x, Upsampler2x } from '../../../../firmware/src/media/codec/resample.js';
import { dominantFrequency, goertzel, rms, sine, snrDb } from '../support/signal.js';

test('upsampling 8 → 16 kHz keeps a 1 kHz tone, its level, and puts little at the 7 kHz image', () => {
  const x = sine({ freq: 1000, rate: 8000, samples: 4000, amplitude: 10000 });
  const y = new Int16Array(8000);
  const up = new Upsampler2x();
  for (let o = 0; o < 4000; o += 160) up.process(x.subarray(o, o + 160), 160, y.subarray(2 * o));
  assert.is(dominantFrequency(y, 16000, { from: 100, to: 7900, step: 100, start: 400 }), 1000);
  assert.ok(Math.abs(rms(y, 400) - rms(x, 200)) < 100, `level ${rms(y, 400)} vs ${rms(x, 200)}`);
  const image = goertzel(y, 7000, 16000, 400);
  const tone = goertzel(y, 1000, 16000, 400);
  assert.ok(tone > image * 10_000, `image at ${(10 * Math.log10(tone / image)).toFixed(0)} dB below`);
  // Against an ideal 16 kHz rendering of the same tone.
  const ideal = sine({ freq: 1000, rate: 16000, samples: 8000, amplitude: 10000 });
  const { snr } = snrDb(ideal, y, { start: 400, end: 7800, maxDelay: 40 });
  assert.ok(snr > 40, `SNR ${snr.toFixed(1)}`);
});

test('downsampling 16 → 8 kHz keeps a 1 kHz tone and removes a 6 kHz one (no alias at 2 kHz)', () => {
  const x = sine({ freq: 1000, rate: 16000, samples: 8000, amplitude: 8000 });
  const hf = sine({ freq: 6000, rate: 16000, samples: 8000, amplitude: 8000 });
  const mixed = x.map((v, i) => v + hf[i]!);
  const y = new Int16Array(4000);
  const down = new Downsampler2x();
  for (let o = 0; o < 8000; o += 320) down.process(mixed.subarray(o, o + 320), 160, y.subarray(o / 2));
  assert.is(dominantFrequency(y, 8000, { from: 100, to: 3900, step: 100, start: 200 }), 1000);
  const tone = goertzel(y, 1000, 8000, 200);
  const alias = goertzel(y, 2000, 8000, 200);
  assert.ok(tone > alias * 10_000, `alias ${(10 * Math.log10(tone / alias)).toFixed(0)} dB below`);
  const ideal = sine({ freq: 1000, rate: 8000, samples: 4000, amplitude: 8000 });
  assert.ok(snrDb(ideal, y, { start: 200, end: 3900, maxDelay: 20 }).snr > 40);
});

test('up then down returns the signal', () => {
  const x = sine({ freq: 700, rate: 8000, samples: 1600, amplitude: 12000 });
  const wide = new Int16Array(3200);
  new Upsampler2x().process(x, 1600, wide);
  const back = new Int16Array(1600);
  new Downsampler2x().process(wide, 1600, back);
  assert.ok(snrDb(x, back, { start: 100, end: 1500, maxDelay: 30 }).snr > 40);
});

test.run();
