/**
 * Payload transcoding between the codecs the relay knows (PCMU, PCMA,
 * G722), in place in the RTP packet buffer: 20 ms is 160 bytes in all
 * three (G.711: 160 samples at 8 kHz; G.722: 320 samples at 16 kHz, four
 * bits each, RTP clock 8000), so a payload keeps its length and the
 * packet's timestamp stays right. Each transcoder has the state of one
 * stream (ADPCM predictors, resampler history) and must not be shared.
 */
import { alawDecode, alawEncode, alawToUlawInPlace, ulawDecode, ulawEncode, ulawToAlawInPlace } from './g711.js';
import { G722Decoder } from './g722-decoder.js';
import { G722Encoder } from './g722-encoder.js';
import { Downsampler2x, Upsampler2x } from './resample.js';

export type TranscodableCodec = 'PCMU' | 'PCMA' | 'G722';

export const TRANSCODABLE: readonly TranscodableCodec[] = ['PCMU', 'PCMA', 'G722'];

export function asTranscodable(name: string): TranscodableCodec | null {
  const n = name.toUpperCase();
  return (TRANSCODABLE as readonly string[]).includes(n) ? (n as TranscodableCodec) : null;
}

export interface PayloadTranscoder {
  readonly from: TranscodableCodec;
  readonly to: TranscodableCodec;
  /** Rewrite data[offset, offset + length) from `from` to `to`; returns the new length (equal for these codecs). */
  transcode(data: Uint8Array, offset: number, length: number): number;
  reset(): void;
}

/** Scratch PCM that grows to the largest frame seen, so steady-state transcoding allocates nothing. */
class Scratch {
  private buf = new Int16Array(0);
  get(n: number): Int16Array {
    if (this.buf.length < n) this.buf = new Int16Array(Math.max(n, 640));
    return this.buf;
  }
}

class G711Converter implements PayloadTranscoder {
  constructor(
    readonly from: TranscodableCodec,
    readonly to: TranscodableCodec,
  ) {}
  transcode(data: Uint8Array, offset: number, length: number): number {
    if (this.from === 'PCMA') alawToUlawInPlace(data, offset, length);
    else ulawToAlawInPlace(data, offset, length);
    return length;
  }
  reset(): void {}
}

class G711ToG722 implements PayloadTranscoder {
  readonly to = 'G722' as const;
  private readonly up = new Upsampler2x();
  private readonly enc = new G722Encoder();
  private readonly narrow = new Scratch();
  private readonly wide = new Scratch();
  constructor(readonly from: TranscodableCodec) {}
  transcode(data: Uint8Array, offset: number, length: number): number {
    const narrow = this.narrow.get(length);
    const wide = this.wide.get(2 * length);
    if (this.from === 'PCMA') alawDecode(data, offset, length, narrow);
    else ulawDecode(data, offset, length, narrow);
    this.up.process(narrow, length, wide);
    return this.enc.encode(wide, data, offset, 2 * length);
  }
  reset(): void {
    this.up.reset();
    this.enc.reset();
  }
}

class G722ToG711 implements PayloadTranscoder {
  readonly from = 'G722' as const;
  private readonly dec = new G722Decoder();
  private readonly down = new Downsampler2x();
  private readonly narrow = new Scratch();
  private readonly wide = new Scratch();
  constructor(readonly to: TranscodableCodec) {}
  transcode(data: Uint8Array, offset: number, length: number): number {
    const wide = this.wide.get(2 * length);
    const narrow = this.narrow.get(length);
    this.dec.decode(data, offset, length, wide);
    this.down.process(wide, length, narrow);
    if (this.to === 'PCMA') alawEncode(narrow, data, length, offset);
    else ulawEncode(narrow, data, length, offset);
    return length;
  }
  reset(): void {
    this.dec.reset();
    this.down.reset();
  }
}

/** A transcoder from one codec to another, or null when they are the same (pass-through). */
export function createTranscoder(from: TranscodableCodec, to: TranscodableCodec): PayloadTranscoder | null {
  if (from === to) return null;
  if (from === 'G722') return new G722ToG711(to);
  if (to === 'G722') return new G711ToG722(from);
  return new G711Converter(from, to);
}
