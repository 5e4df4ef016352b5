/** Small DSP helpers for the media tests: tone synthesis, Goertzel, SNR. Written here, no library. */

export function sine(options: { freq: number; rate: number; samples: number; amplitude: number; phase?: number }): Int16Array {
  const out = new Int16Array(options.samples);
  for (let i = 0; i < options.samples; i++) {
    out[i] = Math.round(options.amplitude * Math.sin((2 * Math.PI * options.freq * i) / options.rate + (options.phase ?? 0)));
  }
  return out;
}

/** Power of one frequency in x (Goertzel algorithm), normalised so a full-length sine of amplitude A gives A²/4·N²-ish; compare only relatively. */
export function goertzel(x: ArrayLike<number>, freq: number, rate: number, start = 0, end = x.length): number {
  const w = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    const s0 = x[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/** The frequency with the most energy among start..stop by step (a Goertzel scan). */
export function dominantFrequency(x: ArrayLike<number>, rate: number, options: { from: number; to: number; step: number; start?: number }): number {
  let best = options.from;
  let bestPower = -1;
  for (let f = options.from; f <= options.to; f += options.step) {
    const p = goertzel(x, f, rate, options.start ?? 0);
    if (p > bestPower) {
      bestPower = p;
      best = f;
    }
  }
  return best;
}

/** SNR in dB of y against x, trying each delay of y up to maxDelay and returning the best, over x[start..end). */
export function snrDb(x: ArrayLike<number>, y: ArrayLike<number>, options: { start: number; end: number; maxDelay: number }): { snr: number; delay: number } {
  let best = { snr: -Infinity, delay: 0 };
  for (let d = 0; d <= options.maxDelay; d++) {
    let s = 0;
    let e = 0;
    for (let i = options.start; i < options.end; i++) {
      const a = x[i]!;
      const b = y[i + d] ?? 0;
      s += a * a;
      e += (b - a) * (b - a);
    }
    const snr = 10 * Math.log10(s / Math.max(e, 1e-9));
    if (snr > best.snr) best = { snr, delay: d };
  }
  return best;
}

export function rms(x: ArrayLike<number>, start = 0, end = x.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, end - start));
}
