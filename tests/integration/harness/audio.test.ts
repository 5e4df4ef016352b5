/**
 * The audio analysis the media tests rely on: RIFF parsing (incl. a header a
 * crashed recorder never finalised), frequency estimation within a fraction of
 * a percent, levels of the non-silent part, Goertzel, and a real sox tone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  activePart, analyzeWav, dominantFrequency, encodeWav, goertzelPower, makeTone, makeUlawTone, parseWav, rms, sine, toDbfs, withinPercent,
} from '../../support/audio.js';
import { readFileSync } from 'node:fs';

test('parseWav round-trips encodeWav', () => {
  const s = sine(440, 8000, 0.5, 0.25);
  const wav = parseWav(encodeWav(s, 8000));
  assert.is(wav.rate, 8000);
  assert.is(wav.channels, 1);
  assert.is(wav.samples.length, 4000);
  assert.ok(Math.abs(wav.samples[100]! - s[100]!) < 1e-4);
  assert.ok(Math.abs(wav.durationSec - 0.5) < 1e-9);
});

test('parseWav tolerates an unfinalised data size and skips unknown chunks', () => {
  const buf = encodeWav(sine(1000, 8000, 0.25), 8000);
  const unfinal = Buffer.from(buf);
  unfinal.writeUInt32LE(0, 40); // data size never written
  assert.is(parseWav(unfinal).samples.length, 2000);
  const huge = Buffer.from(buf);
  huge.writeUInt32LE(0xffffffff, 40);
  assert.is(parseWav(huge).samples.length, 2000);
  // A LIST chunk (odd length, padded) before data.
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
  const withList = Buffer.concat([buf.subarray(0, 36), list, buf.subarray(36)]);
  assert.is(parseWav(withList).samples.length, 2000);
});

test('parseWav rejects what it cannot read', () => {
  assert.throws(() => parseWav(Buffer.from('not a wav file at all')), /RIFF/);
  const buf = encodeWav(sine(1000, 8000, 0.01), 8000);
  const eightBit = Buffer.from(buf);
  eightBit.writeUInt16LE(8, 34);
  assert.throws(() => parseWav(eightBit), /16-bit/);
});

test('dominantFrequency is within 0.5 % across the band, at 8 and 16 kHz', () => {
  for (const rate of [8000, 16000]) {
    for (const f of [300, 1000, 1234, 1500, 3000]) {
      const hz = dominantFrequency(sine(f, rate, 1), rate);
      assert.ok(Math.abs(hz - f) / f < 0.005, `${f} Hz at ${rate} read as ${hz}`);
    }
  }
});

test('dominantFrequency finds the louder of two tones and survives noise; NaN for silence', () => {
  const a = sine(1000, 8000, 1, 0.5);
  const b = sine(1500, 8000, 1, 0.1);
  let seed = 42;
  const noise = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.1;
  const mix = a.map((v, i) => v + b[i]! + noise());
  assert.ok(withinPercent(dominantFrequency(mix, 8000), 1000, 0.005));
  assert.ok(Number.isNaN(dominantFrequency(new Float32Array(8000), 8000)));
  assert.ok(Number.isNaN(dominantFrequency(new Float32Array(0), 8000)));
});

test('activePart drops silence; rms and dBFS of the rest', () => {
  const tone = sine(1000, 8000, 1, 0.5);
  const padded = new Float32Array(8000 * 3);
  padded.set(tone, 8000); // 1 s silence, 1 s tone, 1 s silence
  const active = activePart(padded, 8000);
  assert.ok(Math.abs(active.length - 8000) <= 160, `active ${active.length} samples`);
  assert.ok(Math.abs(rms(active) - 0.5 / Math.SQRT2) < 0.01);
  assert.ok(Math.abs(toDbfs(rms(active)) - -9.03) < 0.2);
  assert.is(activePart(new Float32Array(8000), 8000).length, 0);
});

test('goertzelPower sees the tone that is there and not one that is not', () => {
  const s = sine(1000, 8000, 0.5, 1);
  const on = goertzelPower(s, 8000, 1000);
  const off = goertzelPower(s, 8000, 1400);
  assert.ok(Math.abs(on - 0.25) < 0.02, `on ${on}`);
  assert.ok(off < on / 1000, `off ${off}`);
});

test('makeTone (sox) writes what analyzeWav measures; 16 kHz for G.722; raw mu-law size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-audio-'));
  try {
    const a = analyzeWav(await makeTone({ path: join(dir, 'a.wav'), freqHz: 1000, seconds: 2 }));
    assert.is(a.rate, 8000);
    assert.ok(Math.abs(a.durationSec - 2) < 0.01);
    assert.ok(withinPercent(a.dominantHz, 1000, 0.005), `${a.dominantHz}`);
    assert.ok(Math.abs(a.rmsDbfs - -9.03) < 0.5, `${a.rmsDbfs} dBFS`);
    const b = analyzeWav(await makeTone({ path: join(dir, 'b.wav'), freqHz: 1500, seconds: 1, rate: 16000 }));
    assert.is(b.rate, 16000);
    assert.ok(withinPercent(b.dominantHz, 1500, 0.005));
    const raw = readFileSync(await makeUlawTone({ path: join(dir, 'c.ulaw'), freqHz: 1000, seconds: 1 }));
    assert.is(raw.length, 8000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('withinPercent', () => {
  assert.ok(withinPercent(1049, 1000));
  assert.not.ok(withinPercent(1051, 1000));
  assert.not.ok(withinPercent(NaN, 1000));
});

test.run();
