/**
 * Audio for media tests: make test tones, read what a phone recorded, and
 * measure it.
 *
 *   await makeTone({ path: 'a.wav', freqHz: 1000, seconds: 30 });      // 8 kHz for G.711
 *   const wav = readWav(phone.recordedWav());
 *   const hz = dominantFrequency(activePart(wav.samples, wav.rate), wav.rate);
 *
 * Why our own analysis: `sox FILE -n stat` "Rough frequency" reads a few
 * percent low (1000 Hz comes out ~975, 1500 Hz ~1415: TESTING-NOTES.md), too
 * coarse to tell tones apart reliably. A Hann-windowed FFT averaged over the
 * file with parabolic peak interpolation is within a few Hz.
 *
 * The WAV reader parses RIFF itself: only 16-bit PCM is needed (baresip's
 * aufile/sndfile and sox's output), and it tolerates a data chunk whose size
 * field was never finalised (a recording read while the phone still has it
 * open).
 */
import { readFileSync } from 'node:fs';
import { runOk } from './proc.js';

export interface Wav {
  rate: number;
  channels: number;
  bitsPerSample: number;
  /** Channel 0 as floats in [-1, 1). */
  samples: Float32Array;
  durationSec: number;
}

/** Parses a 16-bit PCM WAV (RIFF/WAVE, format 1 or WAVE_FORMAT_EXTENSIBLE with PCM). */
export function parseWav(buf: Buffer): Wav {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let data: Buffer | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    // An unfinalised size (0 or 0xFFFFFFFF) or one past the end: take the rest of the file.
    if (id === 'data' && (size === 0 || size === 0xffffffff || body + size > buf.length)) size = buf.length - body;
    if (id === 'fmt ') {
      if (size < 16) throw new Error('fmt chunk too short');
      let format = buf.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE: the real format is the first 2 bytes of the sub-format GUID.
      if (format === 0xfffe && size >= 40) format = buf.readUInt16LE(body + 24);
      fmt = { format, channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      data = buf.subarray(body, Math.min(buf.length, body + size));
    }
    off = body + size + (size % 2); // chunks are padded to even length
  }
  if (!fmt) throw new Error('no fmt chunk');
  if (!data) throw new Error('no data chunk');
  if (fmt.format !== 1 || fmt.bits !== 16) throw new Error(`only 16-bit PCM is supported (format ${fmt.format}, ${fmt.bits} bits)`);
  if (fmt.channels < 1) throw new Error('no channels');
  const frameBytes = 2 * fmt.channels;
  const frames = Math.floor(data.length / frameBytes);
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) samples[i] = data.readInt16LE(i * frameBytes) / 32768;
  return { rate: fmt.rate, channels: fmt.channels, bitsPerSample: 16, samples, durationSec: frames / fmt.rate };
}

export function readWav(path: string): Wav {
  return parseWav(readFileSync(path));
}

/** Builds a 16-bit mono PCM WAV in memory (for tests of the analysis itself). */
export function encodeWav(samples: Float32Array, rate: number): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(32767 / 32768, samples[i]!));
    data.writeInt16LE(Math.round(v * 32768), i * 2);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** A pure sine (for tests), amplitude in [0, 1]. */
export function sine(freqHz: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const n = Math.round(rate * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amplitude * Math.sin((2 * Math.PI * freqHz * i) / rate);
  return out;
}

export interface ToneOptions {
  path: string;
  freqHz: number;
  /**
   * Length. baresip's aufile hangs the call up when the file ends ("audio
   * error (0,end of file)"), so make it longer than the call.
   */
  seconds: number;
  /** 8000 for G.711 (default), 16000 for G.722: aufile refuses a file whose rate differs from the codec's. */
  rate?: number;
  /** Peak amplitude as a fraction of full scale (default 0.5: -6 dBFS, no clipping after G.711). */
  amplitude?: number;
}

/** Writes a 16-bit mono sine WAV with sox (the format baresip's aufile wants). */
export async function makeTone(opts: ToneOptions): Promise<string> {
  await runOk('sox', [
    '-n', '-r', String(opts.rate ?? 8000), '-b', '16', '-e', 'signed-integer', '-c', '1', opts.path,
    'synth', String(opts.seconds), 'sine', String(opts.freqHz), 'vol', String(opts.amplitude ?? 0.5),
  ]);
  return opts.path;
}

/**
 * Writes a raw (headerless) 8 kHz G.711 µ-law sine: what SIPp's `rtp_stream`
 * sends as PCMU payload (tests/sipp/uas-answer-rtp.xml streams `rtp-tone.ulaw`).
 */
export async function makeUlawTone(opts: { path: string; freqHz: number; seconds: number; amplitude?: number }): Promise<string> {
  await runOk('sox', [
    '-n', '-r', '8000', '-c', '1', '-t', 'ul', opts.path,
    'synth', String(opts.seconds), 'sine', String(opts.freqHz), 'vol', String(opts.amplitude ?? 0.5),
  ]);
  return opts.path;
}

/** Root mean square of `samples` (0 for none). */
export function rms(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let s = 0;
  for (const v of samples) s += v * v;
  return Math.sqrt(s / samples.length);
}

/** An amplitude ratio in dB relative to full scale (-Infinity for silence). */
export function toDbfs(amplitude: number): number {
  return 20 * Math.log10(amplitude);
}

/**
 * The non-silent part of a recording: the 20 ms frames whose RMS is above
 * `thresholdDbfs` (default -40 dBFS), concatenated. Recordings start and end
 * with silence (before media flowed, after hold), which would otherwise
 * dilute the level and smear the spectrum.
 */
export function activePart(samples: Float32Array, rate: number, thresholdDbfs = -40): Float32Array {
  const frame = Math.max(1, Math.round(rate * 0.02));
  const threshold = 10 ** (thresholdDbfs / 20);
  const keep: Float32Array[] = [];
  let total = 0;
  for (let off = 0; off + frame <= samples.length; off += frame) {
    const f = samples.subarray(off, off + frame);
    if (rms(f) >= threshold) {
      keep.push(f);
      total += frame;
    }
  }
  const out = new Float32Array(total);
  let pos = 0;
  for (const f of keep) {
    out.set(f, pos);
    pos += f.length;
  }
  return out;
}

/** In-place iterative radix-2 FFT; `re`/`im` lengths must be the same power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (n !== im.length || (n & (n - 1)) !== 0) throw new Error('fft size must be a power of two');
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b]! * cr - im[b]! * ci;
        const xi = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

/**
 * Average power spectrum (Welch: Hann window, 50 % overlap) of `samples`.
 * Returns `size / 2 + 1` bins of width `rate / size` Hz.
 */
export function powerSpectrum(samples: Float32Array, size = 4096): Float64Array {
  const spec = new Float64Array(size / 2 + 1);
  const win = new Float64Array(size);
  for (let i = 0; i < size; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1));
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  let frames = 0;
  const step = size / 2;
  // A recording shorter than one frame is zero-padded into a single frame.
  for (let off = 0; off === 0 || off + size <= samples.length; off += step) {
    re.fill(0);
    im.fill(0);
    for (let i = 0; i < size && off + i < samples.length; i++) re[i] = samples[off + i]! * win[i]!;
    fft(re, im);
    for (let k = 0; k < spec.length; k++) spec[k]! += re[k]! * re[k]! + im[k]! * im[k]!;
    frames++;
    if (off + size >= samples.length) break;
  }
  for (let k = 0; k < spec.length; k++) spec[k]! /= frames;
  return spec;
}

export interface FrequencyOptions {
  /** Ignore energy below this (default 50 Hz: DC offset and hum). */
  minHz?: number;
  /** Ignore energy above this (default rate / 2). */
  maxHz?: number;
  /** FFT size (power of two, default 4096: ~2 Hz bins at 8 kHz). */
  fftSize?: number;
}

/**
 * The frequency with the most energy in `samples`, in Hz, interpolated
 * between FFT bins (parabola through the log magnitudes of the peak and its
 * neighbours). NaN for an empty or silent input.
 */
export function dominantFrequency(samples: Float32Array, rate: number, opts: FrequencyOptions = {}): number {
  if (samples.length === 0) return NaN;
  let size = opts.fftSize ?? 4096;
  while (size > 256 && size > samples.length * 2) size >>= 1;
  const spec = powerSpectrum(samples, size);
  const binHz = rate / size;
  const lo = Math.max(1, Math.ceil((opts.minHz ?? 50) / binHz));
  const hi = Math.min(spec.length - 2, Math.floor((opts.maxHz ?? rate / 2) / binHz));
  let best = -1;
  let bestPow = 0;
  for (let k = lo; k <= hi; k++) {
    if (spec[k]! > bestPow) {
      bestPow = spec[k]!;
      best = k;
    }
  }
  if (best < 0 || bestPow <= 1e-20) return NaN;
  const a = Math.log(spec[best - 1]! + 1e-30);
  const b = Math.log(spec[best]! + 1e-30);
  const c = Math.log(spec[best + 1]! + 1e-30);
  const denom = a - 2 * b + c;
  const delta = denom === 0 ? 0 : (0.5 * (a - c)) / denom;
  return (best + delta) * binHz;
}

/**
 * Goertzel power at one frequency, normalised so a full-scale sine at
 * exactly `freqHz` gives ~0.25 (amplitude² / 4). Cheap when only a few
 * frequencies matter (is the 1000 Hz tone there? DTMF pairs).
 */
export function goertzelPower(samples: Float32Array, rate: number, freqHz: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const w = (2 * Math.PI * freqHz) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return power / (n * n);
}

export interface ToneAnalysis {
  rate: number;
  durationSec: number;
  /** Seconds of non-silent audio (activePart). */
  activeSec: number;
  /** Dominant frequency of the non-silent part (NaN when all silent). */
  dominantHz: number;
  /** RMS level of the non-silent part in dBFS (-Infinity when all silent). */
  rmsDbfs: number;
}

/** Reads a WAV and measures what a tone test needs. */
export function analyzeWav(path: string, opts: FrequencyOptions & { thresholdDbfs?: number } = {}): ToneAnalysis {
  const wav = readWav(path);
  const active = activePart(wav.samples, wav.rate, opts.thresholdDbfs);
  return {
    rate: wav.rate,
    durationSec: wav.durationSec,
    activeSec: active.length / wav.rate,
    dominantHz: dominantFrequency(active, wav.rate, opts),
    rmsDbfs: toDbfs(rms(active)),
  };
}

/** True if `measured` is within `tolerance` (a fraction, default 5 %) of `expected`. */
export function withinPercent(measured: number, expected: number, tolerance = 0.05): boolean {
  return Number.isFinite(measured) && Math.abs(measured - expected) <= expected * tolerance;
}
