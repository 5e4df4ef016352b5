/**
 * 8 kHz ↔ 16 kHz resampling for G.711 ↔ G.722 transcoding: a factor of two
 * each way with one linear-phase half-band low-pass FIR (windowed sinc,
 * cut-off at 4 kHz). Upsampling inserts zeros and filters with gain 2;
 * downsampling filters and keeps every other sample. Both keep their filter
 * history across frames, so a stream of 20 ms frames resamples as if it were
 * one signal. Half the taps of a half-band filter are zero, and the
 * polyphase loops below skip them.
 */

/** Odd length, so the filter has a centre tap; 4k + 3 so that the taps next to the centre are non-zero. */
const TAPS = 31;
const CENTRE = (TAPS - 1) / 2;

function designHalfBand(): Float64Array {
  const h = new Float64Array(TAPS);
  for (let n = 0; n < TAPS; n++) {
    const k = n - CENTRE;
    const sinc = k === 0 ? 0.5 : Math.sin((Math.PI * k) / 2) / (Math.PI * k);
    // Blackman window: about 75 dB stop-band, enough below G.711's own noise.
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (TAPS - 1));
    h[n] = sinc * w;
  }
  // Unity DC gain in each polyphase branch: the centre tap exactly 1/2, the other taps summing to 1/2.
  let others = 0;
  for (let n = 0; n < TAPS; n += 2) others += h[n]!;
  for (let n = 0; n < TAPS; n += 2) h[n] = (0.5 * h[n]!) / others;
  h[CENTRE] = 0.5;
  return h;
}

const H = designHalfBand();
/** The non-zero taps at odd distance from the centre, for the polyphase branch: ODD[i] = h[CENTRE − (2i + 1)]. */
const HALF = (CENTRE + 1) / 2; // 8
const ODD = new Float64Array(2 * HALF);
for (let i = 0; i < 2 * HALF; i++) ODD[i] = H[2 * i]!;

function clamp16(x: number): number {
  const r = Math.round(x);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** 8 kHz → 16 kHz. */
export class Upsampler2x {
  /** The last 2·HALF input samples, oldest first. */
  private readonly hist = new Float64Array(2 * HALF);

  reset(): void {
    this.hist.fill(0);
  }

  /** Writes 2·n samples to out. */
  process(input: Int16Array, n: number, out: Int16Array): void {
    const hist = this.hist;
    const L = hist.length;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < L - 1; k++) hist[k] = hist[k + 1]!;
      hist[L - 1] = input[i]!;
      // Zero-stuffed sequence filtered by 2·h: one output lands on the centre tap (a delayed copy),
      // the other is the interpolation through the odd taps.
      out[2 * i] = hist[HALF - 1]!;
      let acc = 0;
      for (let k = 0; k < L; k++) acc += ODD[k]! * hist[k]!;
      out[2 * i + 1] = clamp16(2 * acc);
    }
  }
}

/** 16 kHz → 8 kHz. */
export class Downsampler2x {
  private readonly hist = new Float64Array(TAPS);

  reset(): void {
    this.hist.fill(0);
  }

  /** Reads 2·n samples from input, writes n to out. */
  process(input: Int16Array, n: number, out: Int16Array): void {
    const hist = this.hist;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < TAPS - 2; k++) hist[k] = hist[k + 2]!;
      hist[TAPS - 2] = input[2 * i]!;
      hist[TAPS - 1] = input[2 * i + 1]!;
      let acc = H[CENTRE]! * hist[CENTRE]!;
      for (let k = 0; k < TAPS; k += 2) acc += H[k]! * hist[k]!;
      out[i] = clamp16(acc);
    }
  }
}
