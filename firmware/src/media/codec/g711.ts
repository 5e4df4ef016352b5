/**
 * G.711 (ITU-T G.711, 1988) A-law and µ-law, table-driven.
 *
 * The encoders are written once from the companding rules of the standard
 * (segment = position of the leading one, four mantissa bits; A-law inverts
 * the even bits, µ-law all bits) and then frozen into lookup tables indexed
 * by the top bits of the 16-bit sample: A-law depends only on 13 bits and
 * µ-law on 14, with negative samples taken in one's complement as the
 * standard's 13/14-bit uniform codes do. Decoding is a 256-entry table.
 */

const ULAW_BIAS = 0x84; // 33 in the 14-bit domain, scaled to 16 bits
const ULAW_CLIP = 32635;

function encodeUlawSlow(sample: number): number {
  let sign = 0;
  let x = sample;
  if (x < 0) {
    sign = 0x80;
    x = ~x; // one's complement magnitude
  }
  if (x > ULAW_CLIP) x = ULAW_CLIP;
  x += ULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (x & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (x >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function decodeUlawSlow(code: number): number {
  const b = ~code & 0xff;
  const exponent = (b >> 4) & 0x07;
  const mantissa = b & 0x0f;
  const x = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
  return b & 0x80 ? -x : x;
}

function encodeAlawSlow(sample: number): number {
  let mask = 0xd5; // sign bit set for positive, even bits inverted (0x55)
  let x = sample;
  if (x < 0) {
    mask = 0x55;
    x = ~x;
  }
  const v = x >> 3; // 13-bit magnitude, 0..4095
  let code: number;
  if (v < 32) {
    code = v >> 1;
  } else {
    let seg = 1;
    while (v >> (seg + 5) !== 0) seg++;
    code = (seg << 4) | ((v >> seg) & 0x0f);
  }
  return code ^ mask;
}

function decodeAlawSlow(code: number): number {
  const b = code ^ 0x55;
  const seg = (b >> 4) & 0x07;
  const mantissa = b & 0x0f;
  const x = seg === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (seg - 1);
  return b & 0x80 ? x : -x;
}

const ULAW_DECODE = new Int16Array(256);
const ALAW_DECODE = new Int16Array(256);
const ULAW_ENCODE = new Uint8Array(16384); // index: (sample >> 2) + 8192
const ALAW_ENCODE = new Uint8Array(8192); // index: (sample >> 3) + 4096
const ALAW_TO_ULAW = new Uint8Array(256);
const ULAW_TO_ALAW = new Uint8Array(256);

for (let i = 0; i < 256; i++) {
  ULAW_DECODE[i] = decodeUlawSlow(i);
  ALAW_DECODE[i] = decodeAlawSlow(i);
}
for (let i = 0; i < 16384; i++) ULAW_ENCODE[i] = encodeUlawSlow((i - 8192) << 2);
for (let i = 0; i < 8192; i++) ALAW_ENCODE[i] = encodeAlawSlow((i - 4096) << 3);
for (let i = 0; i < 256; i++) {
  ALAW_TO_ULAW[i] = ULAW_ENCODE[(ALAW_DECODE[i]! >> 2) + 8192]!;
  ULAW_TO_ALAW[i] = ALAW_ENCODE[(ULAW_DECODE[i]! >> 3) + 4096]!;
}

function clamp16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x | 0;
}

export function ulawEncodeSample(sample: number): number {
  return ULAW_ENCODE[(clamp16(sample) >> 2) + 8192]!;
}
export function ulawDecodeSample(code: number): number {
  return ULAW_DECODE[code & 0xff]!;
}
export function alawEncodeSample(sample: number): number {
  return ALAW_ENCODE[(clamp16(sample) >> 3) + 4096]!;
}
export function alawDecodeSample(code: number): number {
  return ALAW_DECODE[code & 0xff]!;
}

/** Encode n samples of 16-bit PCM into out (one byte each). */
export function ulawEncode(pcm: Int16Array, out: Uint8Array, n = pcm.length, outOffset = 0): void {
  for (let i = 0; i < n; i++) out[outOffset + i] = ULAW_ENCODE[(pcm[i]! >> 2) + 8192]!;
}
export function ulawDecode(data: Uint8Array, offset: number, n: number, out: Int16Array): void {
  for (let i = 0; i < n; i++) out[i] = ULAW_DECODE[data[offset + i]!]!;
}
export function alawEncode(pcm: Int16Array, out: Uint8Array, n = pcm.length, outOffset = 0): void {
  for (let i = 0; i < n; i++) out[outOffset + i] = ALAW_ENCODE[(pcm[i]! >> 3) + 4096]!;
}
export function alawDecode(data: Uint8Array, offset: number, n: number, out: Int16Array): void {
  for (let i = 0; i < n; i++) out[i] = ALAW_DECODE[data[offset + i]!]!;
}

/** A-law ↔ µ-law straight through a 256-entry table, in place (G.711 §4 conversion, via the decoded value). */
export function alawToUlawInPlace(data: Uint8Array, offset: number, n: number): void {
  for (let i = offset; i < offset + n; i++) data[i] = ALAW_TO_ULAW[data[i]!]!;
}
export function ulawToAlawInPlace(data: Uint8Array, offset: number, n: number): void {
  for (let i = offset; i < offset + n; i++) data[i] = ULAW_TO_ALAW[data[i]!]!;
}

/** The code for silence, for filling gaps. */
export const ULAW_SILENCE = 0xff;
export const ALAW_SILENCE = 0xd5;
