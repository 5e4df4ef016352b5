/**
 * One G.722 sub-band's adaptive predictor and scale factor (ITU-T G.722
 * §3.3–3.6 and §6.2, "BLOCK 3" and "BLOCK 4"). Encoder and decoder run the
 * same code on the same quantised differences, which is what keeps them in
 * step.
 *
 * The predictor has two poles (a1, a2) on the reconstructed signal and six
 * zeros (b1..b6) on the quantised difference, each adapted by a sign-sign
 * rule with leakage; the step size is kept as a base-2 logarithm (nb) and
 * converted back through the ILB table.
 */
import { ILB } from './g722-tables.js';

export function sat16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** Sign as the standard compares it: −1 for negative, 0 otherwise (the top bit of a 16-bit word). */
function sg(x: number): number {
  return x < 0 ? -1 : 0;
}

export class G722Band {
  /** Predictor output s = sp + sz (SL / SH). */
  s = 0;
  /** Pole section output (SPL / SPH). */
  sp = 0;
  /** Zero section output (SZL / SZH). */
  sz = 0;
  /** Logarithmic scale factor (NBL / NBH). */
  nb = 0;
  /** Scale factor (DETL / DETH). */
  det: number;
  /** Reconstructed signal r[0..2] (RLT), partial reconstruction p[0..2] (PLT), pole coefficients a[1..2]. */
  readonly r = new Int32Array(3);
  readonly p = new Int32Array(3);
  readonly a = new Int32Array(3);
  private readonly ap = new Int32Array(3);
  /** Quantised differences d[0..6] (DLT) and zero coefficients b[1..6]. */
  readonly d = new Int32Array(7);
  readonly b = new Int32Array(7);
  private readonly bp = new Int32Array(7);

  constructor(
    private readonly initialDet: number,
    private readonly nbMax: number,
    /** 8 for the lower band, 10 for the higher (SCALEL / SCALEH). */
    private readonly scaleShift: number,
  ) {
    this.det = initialDet;
  }

  reset(): void {
    this.s = this.sp = this.sz = this.nb = 0;
    this.det = this.initialDet;
    for (const arr of [this.r, this.p, this.a, this.ap, this.d, this.b, this.bp]) arr.fill(0);
  }

  /** LOGSCL + SCALEL/SCALEH: adapt the step size with the multiplier of the last code. */
  adaptScale(w: number): void {
    let nb = ((this.nb * 127) >> 7) + w;
    if (nb < 0) nb = 0;
    else if (nb > this.nbMax) nb = this.nbMax;
    this.nb = nb;
    const wd1 = (nb >> 6) & 31;
    const wd2 = this.scaleShift - (nb >> 11);
    const wd3 = wd2 < 0 ? ILB[wd1]! << -wd2 : ILB[wd1]! >> wd2;
    this.det = wd3 << 2;
  }

  /** BLOCK 4: reconstruct, adapt poles and zeros, and compute the next prediction from the quantised difference d. */
  predict(d: number): void {
    const { r, p, a, ap, b, bp } = this;
    const dl = this.d;
    dl[0] = d;
    // RECONS, PARREC
    r[0] = sat16(this.s + d);
    p[0] = sat16(this.sz + d);

    // UPPOL2: second pole coefficient.
    const sg0 = sg(p[0]!);
    const sg1 = sg(p[1]!);
    const sg2 = sg(p[2]!);
    let wd1 = sat16(a[1]! * 4);
    let wd2 = sg0 === sg1 ? -wd1 : wd1;
    if (wd2 > 32767) wd2 = 32767;
    let wd3 = (wd2 >> 7) + (sg0 === sg2 ? 128 : -128) + ((a[2]! * 32512) >> 15);
    if (wd3 > 12288) wd3 = 12288;
    else if (wd3 < -12288) wd3 = -12288;
    ap[2] = wd3;

    // UPPOL1: first pole coefficient, kept inside the stability triangle.
    wd1 = sg0 === sg1 ? 192 : -192;
    wd2 = (a[1]! * 32640) >> 15;
    let ap1 = sat16(wd1 + wd2);
    wd3 = sat16(15360 - ap[2]!);
    if (ap1 > wd3) ap1 = wd3;
    else if (ap1 < -wd3) ap1 = -wd3;
    ap[1] = ap1;

    // UPZERO: six zero coefficients.
    const step = d === 0 ? 0 : 128;
    const sgd = sg(d);
    for (let i = 1; i < 7; i++) {
      const w = sg(dl[i]!) === sgd ? step : -step;
      bp[i] = sat16(w + ((b[i]! * 32640) >> 15));
    }

    // DELAYA / DELAYL: shift the histories.
    for (let i = 6; i > 0; i--) {
      dl[i] = dl[i - 1]!;
      b[i] = bp[i]!;
    }
    for (let i = 2; i > 0; i--) {
      r[i] = r[i - 1]!;
      p[i] = p[i - 1]!;
      a[i] = ap[i]!;
    }

    // FILTEP: pole section.
    wd1 = (a[1]! * sat16(r[1]! + r[1]!)) >> 15;
    wd2 = (a[2]! * sat16(r[2]! + r[2]!)) >> 15;
    this.sp = sat16(wd1 + wd2);

    // FILTEZ: zero section.
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (b[i]! * sat16(dl[i]! + dl[i]!)) >> 15;
    this.sz = sat16(sz);

    // PREDIC
    this.s = sat16(this.sp + this.sz);
  }
}
