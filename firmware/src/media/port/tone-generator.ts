/**
 * Call-progress tones as a media port: one or more sine frequencies summed,
 * switched on and off by a cadence that repeats. The UK tones are from
 * SIN 350 / ITU-T E.180 supplement 2 (United Kingdom).
 */
import type { MediaPort } from './media-port.js';
import { frameSamples, saturate } from './media-port.js';

export interface ToneSpec {
  /** Frequencies mixed together, Hz. */
  freqs: readonly number[];
  /** On/off pairs in ms, repeating; empty: continuous. */
  cadence: readonly number[];
  /** Level of each frequency in dBm0 (default −13; G.711 full scale sine is +3.17 dBm0). */
  levelDbm0?: number;
}

/** UK ring tone: 400+450 Hz, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off. */
export const UK_RINGBACK: ToneSpec = { freqs: [400, 450], cadence: [400, 200, 400, 2000], levelDbm0: -19 };
/** UK busy tone: 400 Hz, 0.375 s on, 0.375 s off. */
export const UK_BUSY: ToneSpec = { freqs: [400], cadence: [375, 375], levelDbm0: -13 };
/** UK dial tone: 350+450 Hz continuous. */
export const UK_DIAL: ToneSpec = { freqs: [350, 450], cadence: [], levelDbm0: -19 };
/** UK number unobtainable: 400 Hz continuous. */
export const UK_NU: ToneSpec = { freqs: [400], cadence: [], levelDbm0: -13 };

/** Peak amplitude of a sine at `dbm0` in 16-bit PCM (0 dBm0 ≈ 3.17 dB below the G.711 full-scale sine). */
export function dbm0ToAmplitude(dbm0: number): number {
  return 32767 * Math.pow(10, (dbm0 - 3.17) / 20);
}

export class ToneGenerator implements MediaPort {
  readonly sampleRate: number;
  readonly samplesPerFrame: number;
  private readonly spec: ToneSpec;
  private readonly amplitude: number;
  private readonly period: number;
  /** Samples generated so far. */
  private n = 0;

  constructor(options: { spec: ToneSpec; sampleRate?: number }) {
    this.sampleRate = options.sampleRate ?? 8000;
    this.samplesPerFrame = frameSamples(this.sampleRate);
    this.spec = options.spec;
    this.amplitude = dbm0ToAmplitude(options.spec.levelDbm0 ?? -13);
    this.period = options.spec.cadence.reduce((a, b) => a + b, 0);
  }

  /** Whether the cadence is in an "on" part at time ms. */
  private isOn(ms: number): boolean {
    if (this.period === 0) return true;
    let t = ms % this.period;
    const c = this.spec.cadence;
    for (let i = 0; i < c.length; i++) {
      if (t < c[i]!) return i % 2 === 0;
      t -= c[i]!;
    }
    return false;
  }

  getFrame(out: Int16Array): boolean {
    const rate = this.sampleRate;
    for (let i = 0; i < this.samplesPerFrame; i++, this.n++) {
      if (!this.isOn((this.n * 1000) / rate)) {
        out[i] = 0;
        continue;
      }
      let v = 0;
      for (const f of this.spec.freqs) v += Math.sin((2 * Math.PI * f * this.n) / rate);
      out[i] = saturate(this.amplitude * v);
    }
    return true;
  }

  putFrame(): void {}

  reset(): void {
    this.n = 0;
  }
}
