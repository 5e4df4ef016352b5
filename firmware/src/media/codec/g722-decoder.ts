/**
 * ITU-T G.722 SB-ADPCM decoder, 64 kbit/s (mode 1): the lower band uses all
 * six bits for the output and the 4-bit core for adaptation (so it stays in
 * step with an encoder that only trusts those), then the receive QMF
 * interpolates the two 8 kHz sub-bands back to 16 kHz PCM.
 */
import { G722Band, sat16 } from './g722-band.js';
import { NBH_MAX, NBL_MAX, QM2, QM4, QM6, QMF, RH2, RL42, WH, WL } from './g722-tables.js';

function limit(x: number): number {
  return x > 16383 ? 16383 : x < -16384 ? -16384 : x;
}

export class G722Decoder {
  private readonly low = new G722Band(32, NBL_MAX, 8);
  private readonly high = new G722Band(8, NBH_MAX, 10);
  /** Receive QMF histories, newest first: xd = rL − rH, xs = rL + rH. */
  private readonly xd = new Int32Array(12);
  private readonly xs = new Int32Array(12);

  reset(): void {
    this.low.reset();
    this.high.reset();
    this.xd.fill(0);
    this.xs.fill(0);
  }

  /** Decode `length` bytes from data[offset..] into out (2 samples per byte). Returns samples written. */
  decode(data: Uint8Array, offset: number, length: number, out: Int16Array, outOffset = 0): number {
    const low = this.low;
    const high = this.high;
    const xd = this.xd;
    const xs = this.xs;
    for (let j = 0; j < length; j++) {
      const code = data[offset + j]!;
      const il = code & 0x3f;
      const ih = code >> 6;

      // Lower band: INVQBL (6-bit) for the output, INVQAL (4-bit) for adaptation (§6.2.1).
      const rl = limit(low.s + ((low.det * QM6[il]!) >> 15));
      const ril = il >> 2;
      const dlt = (low.det * QM4[ril]!) >> 15;
      low.adaptScale(WL[RL42[ril]!]!);
      low.predict(dlt);

      // Higher band.
      const dh = (high.det * QM2[ih]!) >> 15;
      const rh = limit(high.s + dh);
      high.adaptScale(WH[RH2[ih]!]!);
      high.predict(dh);

      // Receive QMF (§4.4): xout(j) = 2 Σ h(2i)·xd(j−i), xout(j+1) = 2 Σ h(2i+1)·xs(j−i).
      // Shift the delay lines by hand: typed-array copyWithin costs more than 11 moves at this size.
      for (let i = 11; i > 0; i--) {
        xd[i] = xd[i - 1]!;
        xs[i] = xs[i - 1]!;
      }
      xd[0] = rl - rh;
      xs[0] = rl + rh;
      let even = 0;
      let odd = 0;
      for (let i = 0; i < 12; i++) {
        even += QMF[2 * i]! * xd[i]!;
        odd += QMF[2 * i + 1]! * xs[i]!;
      }
      // 2^13 coefficient scale, ×2 of the formula, ×2 back from 15-bit sub-bands to 16-bit PCM: >> 11.
      out[outOffset + 2 * j] = sat16(even >> 11);
      out[outOffset + 2 * j + 1] = sat16(odd >> 11);
    }
    return length * 2;
  }
}
