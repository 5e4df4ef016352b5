/**
 * ITU-T G.722 SB-ADPCM encoder, 64 kbit/s (mode 1), written from the
 * algorithm description of the Recommendation:
 *
 *   16 kHz PCM ─► transmit QMF ─┬─ xL (8 kHz) ─► 6-bit ADPCM (lower band) ─┐
 *                               └─ xH (8 kHz) ─► 2-bit ADPCM (higher band) ┴─► byte = IH << 6 | IL
 *
 * Input is 16-bit linear PCM at 16 kHz (the standard's 14-bit samples
 * left-justified); each pair of input samples gives one output byte, so a
 * 20 ms frame is 320 samples → 160 bytes, with RTP timestamps at 8000 Hz.
 */
import { G722Band, sat16 } from './g722-band.js';
import { ILN, ILP, IHN, IHP, NBH_MAX, NBL_MAX, Q2, Q6, QM2, QM4, QMF, RH2, RL42, WH, WL } from './g722-tables.js';

export class G722Encoder {
  private readonly low = new G722Band(32, NBL_MAX, 8);
  private readonly high = new G722Band(8, NBH_MAX, 10);
  /** Input history for the QMF, newest first: x[k] = x_in(j − k). */
  private readonly x = new Int32Array(24);

  reset(): void {
    this.low.reset();
    this.high.reset();
    this.x.fill(0);
  }

  /**
   * Encode `samples` (even) 16 kHz samples from pcm into out at outOffset.
   * Returns the number of bytes written (samples / 2).
   */
  encode(pcm: Int16Array, out: Uint8Array, outOffset = 0, samples = pcm.length): number {
    const x = this.x;
    const low = this.low;
    const high = this.high;
    const n = samples >> 1;
    for (let j = 0; j < n; j++) {
      // Transmit QMF (§3.1): xA = Σ h(2i)·x(j−2i), xB = Σ h(2i+1)·x(j−2i−1); xL = xA + xB, xH = xA − xB.
      for (let i = 23; i > 1; i--) x[i] = x[i - 2]!;
      x[1] = pcm[2 * j]!;
      x[0] = pcm[2 * j + 1]!;
      let sumA = 0;
      let sumB = 0;
      for (let i = 0; i < 24; i += 2) {
        sumA += QMF[i]! * x[i]!;
        sumB += QMF[i + 1]! * x[i + 1]!;
      }
      // 2^13 for the coefficients, and one more bit: the sub-bands run at 15 bits.
      const xl = (sumA + sumB) >> 14;
      const xh = (sumA - sumB) >> 14;

      // Lower band (§3.3): SUBTRA, QUANTL.
      const el = sat16(xl - low.s);
      let wd = el >= 0 ? el : -(el + 1);
      let mil = 1;
      while (mil < 30 && wd >= (Q6[mil]! * low.det) >> 12) mil++;
      const il = el < 0 ? ILN[mil]! : ILP[mil]!;
      // INVQAL on the 4-bit core (the decoder may only have those bits), then LOGSCL/SCALEL and BLOCK 4.
      const ril = il >> 2;
      const dlt = (low.det * QM4[ril]!) >> 15;
      low.adaptScale(WL[RL42[ril]!]!);
      low.predict(dlt);

      // Higher band (§3.4): SUBTRA, QUANTH, INVQAH, LOGSCH/SCALEH, BLOCK 4.
      const eh = sat16(xh - high.s);
      wd = eh >= 0 ? eh : -(eh + 1);
      const mih = wd >= (Q2 * high.det) >> 12 ? 2 : 1;
      const ih = eh < 0 ? IHN[mih]! : IHP[mih]!;
      const dh = (high.det * QM2[ih]!) >> 15;
      high.adaptScale(WH[RH2[ih]!]!);
      high.predict(dh);

      out[outOffset + j] = (ih << 6) | il;
    }
    return n;
  }
}
