import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  alawDecode,
  alawDecodeSample,
  alawEncode,
  alawEncodeSample,
  alawToUlawInPlace,
  ulawDecodeSample,
  ulawEncodeSample,
  ulawToAlawInPlace,
} from '../../../../firmware/src/media/codec/g711.js';

test('known µ-law values (G.711 Table 2)', () => {
  assert.is(ulawEncodeSample(0), 0xff);
  assert.is(ulawEncodeSample(-1), 0x7f);
  assert.is(ulawEncodeSample(32767), 0x80);
  assert.is(ulawEncodeSample(-32768), 0x00);
  assert.is(ulawDecodeSample(0xff), 0);
  assert.is(ulawDecodeSample(0x7f), 0);
  assert.is(ulawDecodeSample(0x80), 32124);
  assert.is(ulawDecodeSample(0x00), -32124);
  assert.is(ulawDecodeSample(0xfe), 8, 'segment 0 steps by 8 (16-bit scale)');
  assert.is(ulawDecodeSample(0xf0), 120, 'top of segment 0');
  assert.is(ulawDecodeSample(0xef), 132, 'bottom of segment 1, step 16');
  assert.is(ulawDecodeSample(0xee), 148);
});

test('known A-law values (G.711 Table 1, even bits inverted)', () => {
  assert.is(alawEncodeSample(0), 0xd5);
  assert.is(alawEncodeSample(-1), 0x55);
  assert.is(alawEncodeSample(32767), 0xaa);
  assert.is(alawEncodeSample(-32768), 0x2a);
  assert.is(alawDecodeSample(0xd5), 8);
  assert.is(alawDecodeSample(0x55), -8);
  assert.is(alawDecodeSample(0xaa), 32256);
  assert.is(alawDecodeSample(0x2a), -32256);
  assert.is(alawDecodeSample(0xd4), 24);
});

test('decode tables are monotonic within each sign and symmetric', () => {
  const ulawPos = Array.from({ length: 128 }, (_, i) => ulawDecodeSample(0xff - i));
  const alawPos = Array.from({ length: 128 }, (_, i) => alawDecodeSample((0x80 | i) ^ 0x55));
  for (let i = 1; i < 128; i++) {
    assert.ok(ulawPos[i]! > ulawPos[i - 1]!, `µ-law ${i}`);
    assert.ok(alawPos[i]! > alawPos[i - 1]!, `A-law ${i}`);
  }
  for (let c = 0; c < 128; c++) {
    assert.is(ulawDecodeSample(c), -ulawDecodeSample(c | 0x80));
    assert.is(alawDecodeSample(c), -alawDecodeSample(c | 0x80));
  }
});

test('round trip error stays within half a quantisation step of each segment', () => {
  let worstU = 0;
  let worstA = 0;
  for (let x = -32768; x < 32768; x++) {
    const m = Math.abs(x);
    const eu = Math.abs(ulawDecodeSample(ulawEncodeSample(x)) - x);
    const ea = Math.abs(alawDecodeSample(alawEncodeSample(x)) - x);
    if (m < 32000) {
      // µ-law step in a segment is (|x| + 132) / 16 at most: half a step plus rounding of the 14-bit domain.
      assert.ok(eu <= (m + 132) / 32 + 4, `µ-law ${x}: error ${eu}`);
      // A-law: step 16 in segments 0–1, then |x| / 16.
      assert.ok(ea <= Math.max(16, m / 32 + 8), `A-law ${x}: error ${ea}`);
    }
    worstU = Math.max(worstU, eu);
    worstA = Math.max(worstA, ea);
  }
  assert.ok(worstU <= 1024 && worstA <= 1024, `worst ${worstU} ${worstA}`);
  assert.ok(worstU > 0 && worstA > 0);
});

test('every code survives decode → encode', () => {
  for (let c = 0; c < 256; c++) {
    const u = ulawDecodeSample(c);
    const a = alawDecodeSample(c);
    // µ-law has two zeros (0x7f and 0xff); both decode to 0, which encodes as 0xff.
    if (u !== 0) assert.is(ulawEncodeSample(u), c, `µ-law ${c}`);
    assert.is(alawEncodeSample(a), c, `A-law ${c}`);
  }
});

test('buffer forms and A↔µ conversion agree with the sample forms', () => {
  const pcm = Int16Array.from([0, 100, -100, 5000, -5000, 32767, -32768, 1234]);
  const a = new Uint8Array(pcm.length);
  alawEncode(pcm, a);
  assert.equal([...a], [...pcm].map((x) => alawEncodeSample(x)));
  const back = new Int16Array(pcm.length);
  alawDecode(a, 0, a.length, back);
  assert.equal([...back], [...a].map((c) => alawDecodeSample(c)));
  const conv = a.slice();
  alawToUlawInPlace(conv, 0, conv.length);
  assert.equal([...conv], [...back].map((x) => ulawEncodeSample(x)));
  ulawToAlawInPlace(conv, 0, conv.length);
  for (let i = 0; i < pcm.length; i++) {
    assert.ok(Math.abs(alawDecodeSample(conv[i]!) - back[i]!) <= Math.abs(back[i]!) / 16 + 16, `A→µ→A ${i}`);
  }
});

test.run();
