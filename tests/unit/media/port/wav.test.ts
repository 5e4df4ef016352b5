import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseWav, writeWav } from '../../../../firmware/src/media/port/wav.js';
import { WavPlayer, convertRate } from '../../../../firmware/src/media/port/wav-player.js';
import { WavRecorder } from '../../../../firmware/src/media/port/wav-recorder.js';
import { alawEncode } from '../../../../firmware/src/media/codec/g711.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { dominantFrequency, sine } from '../support/signal.js';

test('write → parse round trip, canonical header', () => {
  const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
  const wav = writeWav({ sampleRate: 8000, samples });
  assert.is(wav.length, 44 + 12);
  assert.is(wav.toString('ascii', 0, 4), 'RIFF');
  assert.is(wav.readUInt32LE(24), 8000);
  const back = parseWav(wav);
  assert.is(back.sampleRate, 8000);
  assert.equal([...back.samples], [...samples]);
});

test('reads A-law WAVs and skips unknown chunks', () => {
  const pcm = sine({ freq: 500, rate: 8000, samples: 800, amplitude: 5000 });
  const a = new Uint8Array(800);
  alawEncode(pcm, a);
  const fmt = Buffer.alloc(8 + 18);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(18, 4);
  fmt.writeUInt16LE(6, 8);
  fmt.writeUInt16LE(1, 10);
  fmt.writeUInt32LE(8000, 12);
  fmt.writeUInt32LE(8000, 16);
  fmt.writeUInt16LE(1, 20);
  fmt.writeUInt16LE(8, 22);
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0, 1, 2, 3, 0])]); // odd size, padded
  const data = Buffer.concat([Buffer.from('data'), Buffer.from([0x20, 0x03, 0, 0]), Buffer.from(a)]);
  const body = Buffer.concat([Buffer.from('WAVE'), fmt, list, data]);
  const riff = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0, 0, 0, 0]), body]);
  riff.writeUInt32LE(body.length, 4);
  const w = parseWav(riff);
  assert.is(w.samples.length, 800);
  assert.is(dominantFrequency(w.samples, 8000, { from: 100, to: 3000, step: 50 }), 500);
});

test('rejects what it cannot play', () => {
  const stereo = writeWav({ sampleRate: 8000, samples: new Int16Array(4) });
  stereo.writeUInt16LE(2, 22);
  for (const b of [Buffer.from('not a wav file at all'), stereo]) {
    try {
      parseWav(b);
      assert.unreachable();
    } catch (e) {
      assert.ok(isPgwError(e, 'PGW_E_CONFIG_READ'), String(e));
    }
  }
});

test('player frames a prompt, converts the rate, ends or loops; recorder writes it back', () => {
  const prompt = { sampleRate: 8000, samples: sine({ freq: 700, rate: 8000, samples: 400, amplitude: 6000 }) };
  let ended = 0;
  const p = new WavPlayer({ audio: prompt });
  p.onEnded = () => ended++;
  const rec = new WavRecorder();
  const f = new Int16Array(160);
  let frames = 0;
  while (p.getFrame(f)) {
    rec.putFrame(f);
    frames++;
  }
  assert.is(frames, 3, '400 samples: two full frames and a padded one');
  assert.ok(p.ended);
  assert.is(ended, 1);
  assert.not.ok(p.getFrame(f));
  assert.ok(f.every((v) => v === 0));
  const back = parseWav(rec.toWav());
  assert.is(back.samples.length, 480);
  assert.equal([...back.samples.subarray(0, 400)], [...prompt.samples]);
  const loop = new WavPlayer({ audio: prompt, loop: true });
  for (let i = 0; i < 10; i++) assert.ok(loop.getFrame(f));
  const wide = new WavPlayer({ audio: prompt, sampleRate: 16000 });
  assert.is(wide.samplesPerFrame, 320);
  const up = convertRate(prompt, 16000);
  assert.is(up.length, 800);
  assert.is(dominantFrequency(up, 16000, { from: 100, to: 7000, step: 50, start: 40 }), 700);
  assert.is(convertRate({ sampleRate: 16000, samples: up }, 8000).length, 400);
  assert.is(convertRate({ sampleRate: 44100, samples: new Int16Array(4410) }, 8000).length, 800);
});

test('recorder stops at its limit', () => {
  const rec = new WavRecorder({ maxSeconds: 0.05 });
  for (let i = 0; i < 10; i++) rec.putFrame(new Int16Array(160).fill(1));
  assert.is(rec.audio().samples.length, 400);
  assert.is(rec.seconds, 0.05);
});

test.run();
