/** A player port: plays PCM (e.g. a parsed WAV prompt) frame by frame, once or looped. */
import { Downsampler2x, Upsampler2x } from '../codec/resample.js';
import type { PcmAudio } from './wav.js';
import type { MediaPort } from './media-port.js';
import { frameSamples } from './media-port.js';

/** Bring audio to the port's rate: exact 2× either way through the half-band filters, otherwise linear interpolation. */
export function convertRate(audio: PcmAudio, rate: number): Int16Array {
  const src = audio.samples;
  if (audio.sampleRate === rate) return src;
  if (audio.sampleRate * 2 === rate) {
    const out = new Int16Array(src.length * 2);
    new Upsampler2x().process(src, src.length, out);
    return out;
  }
  if (audio.sampleRate === rate * 2) {
    const out = new Int16Array(src.length >> 1);
    new Downsampler2x().process(src, out.length, out);
    return out;
  }
  // Other rates (44.1/48 kHz studio prompts) deserve a proper converter offline; this keeps them usable.
  const n = Math.floor((src.length * rate) / audio.sampleRate);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const x = (i * audio.sampleRate) / rate;
    const j = Math.floor(x);
    const f = x - j;
    out[i] = Math.round((src[j] ?? 0) * (1 - f) + (src[j + 1] ?? src[j] ?? 0) * f);
  }
  return out;
}

export class WavPlayer implements MediaPort {
  readonly sampleRate: number;
  readonly samplesPerFrame: number;
  private readonly samples: Int16Array;
  private readonly loop: boolean;
  private pos = 0;
  private endedFlag = false;
  /** Called once when a non-looping player runs out. */
  onEnded: (() => void) | null = null;

  constructor(options: { audio: PcmAudio; sampleRate?: number; loop?: boolean }) {
    this.sampleRate = options.sampleRate ?? 8000;
    this.samplesPerFrame = frameSamples(this.sampleRate);
    this.samples = convertRate(options.audio, this.sampleRate);
    this.loop = options.loop ?? false;
  }

  get ended(): boolean {
    return this.endedFlag;
  }

  getFrame(out: Int16Array): boolean {
    if (this.endedFlag || this.samples.length === 0) {
      out.fill(0, 0, this.samplesPerFrame);
      return false;
    }
    for (let i = 0; i < this.samplesPerFrame; i++) {
      if (this.pos >= this.samples.length) {
        if (this.loop) this.pos = 0;
        else {
          out.fill(0, i, this.samplesPerFrame);
          this.endedFlag = true;
          this.onEnded?.();
          return i > 0;
        }
      }
      out[i] = this.samples[this.pos++]!;
    }
    return true;
  }

  putFrame(): void {}

  rewind(): void {
    this.pos = 0;
    this.endedFlag = false;
  }
}
