import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asTranscodable, createTranscoder } from '../../../../firmware/src/media/codec/transcoder.js';
import type { TranscodableCodec } from '../../../../firmware/src/media/codec/transcoder.js';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../../../../firmware/src/media/codec/g711.js';
import { G722Decoder } from '../../../../firmware/src/media/codec/g722-decoder.js';
import { G722Encoder } from '../../../../firmware/src/media/codec/g722-encoder.js';
import { dominantFrequency, sine, snrDb } from '../support/signal.js';

/** Encode a 1 kHz tone in `codec`, 20 ms frames of 160 bytes. */
function encodeTone(codec: TranscodableCodec, frames: number): Uint8Array {
  const out = new Uint8Array(160 * frames);
  if (codec === 'G722') {
    new G722Encoder().encode(sine({ freq: 1000, rate: 16000, samples: 320 * frames, amplitude: 9000 }), out);
  } else {
    const pcm = sine({ freq: 1000, rate: 8000, samples: 160 * frames, amplitude: 9000 });
    (codec === 'PCMA' ? alawEncode : ulawEncode)(pcm, out);
  }
  return out;
}

function decodeAt8k(codec: TranscodableCodec, data: Uint8Array): { pcm: Int16Array; rate: number } {
  if (codec === 'G722') {
    const pcm = new Int16Array(data.length * 2);
    new G722Decoder().decode(data, 0, data.length, pcm);
    return { pcm, rate: 16000 };
  }
  const pcm = new Int16Array(data.length);
  (codec === 'PCMA' ? alawDecode : ulawDecode)(data, 0, data.length, pcm);
  return { pcm, rate: 8000 };
}

test('same codec is pass-through', () => {
  assert.is(createTranscoder('PCMA', 'PCMA'), null);
  assert.is(asTranscodable('pcmu'), 'PCMU');
  assert.is(asTranscodable('opus'), null);
});

const PAIRS: Array<[TranscodableCodec, TranscodableCodec]> = [
  ['PCMA', 'PCMU'],
  ['PCMU', 'PCMA'],
  ['PCMA', 'G722'],
  ['PCMU', 'G722'],
  ['G722', 'PCMA'],
  ['G722', 'PCMU'],
];

for (const [from, to] of PAIRS) {
  test(`${from} → ${to} in place, frame by frame, keeps a 1 kHz tone`, () => {
    const frames = 25;
    const data = encodeTone(from, frames);
    // Pretend each frame sits in an RTP packet after a 12-byte header.
    const t = createTranscoder(from, to)!;
    assert.is(t.from, from);
    assert.is(t.to, to);
    const out = new Uint8Array(data.length);
    const packet = new Uint8Array(12 + 160);
    for (let f = 0; f < frames; f++) {
      packet.fill(0xee, 0, 12);
      packet.set(data.subarray(f * 160, f * 160 + 160), 12);
      assert.is(t.transcode(packet, 12, 160), 160);
      assert.ok(packet.subarray(0, 12).every((b) => b === 0xee), 'header untouched');
      out.set(packet.subarray(12), f * 160);
    }
    const { pcm, rate } = decodeAt8k(to, out);
    const skip = rate / 20;
    assert.is(dominantFrequency(pcm, rate, { from: 200, to: rate / 2 - 200, step: 50, start: skip }), 1000);
    const ideal = sine({ freq: 1000, rate, samples: pcm.length, amplitude: 9000 });
    const { snr } = snrDb(ideal, pcm, { start: skip, end: pcm.length - 100, maxDelay: 80 });
    assert.ok(snr > 25, `${from}→${to} SNR ${snr.toFixed(1)} dB`);
  });
}

test.run();
