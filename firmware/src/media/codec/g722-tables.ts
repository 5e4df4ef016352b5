/**
 * Constants of ITU-T G.722 (11/1988, SB-ADPCM), in the integer scaling of
 * the Recommendation's fixed-point description. Each table is named after
 * the quantity of the standard it holds.
 */

/** QMF coefficients h0..h23 scaled by 2^13 (G.722 §3.1, Table 8): symmetric, h(i) = h(23 − i). */
export const QMF = Int32Array.from([3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3]);

/** Lower sub-band 6-bit quantizer decision levels, in units of the scale factor / 4096 (Q6, Table 9). */
export const Q6 = Int32Array.from([0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919]);

/** Code for quantizer interval m (1..30) of a negative / positive difference (ILN / ILP, Table 9). */
export const ILN = Int32Array.from([0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0]);
export const ILP = Int32Array.from([0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0]);

/** Lower sub-band 6-bit inverse quantizer output per code, scaled by 2^15 / 8 (QQ6 as used for 64 kbit/s). */
export const QM6 = Int32Array.from([
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856, -7192, -6576, -6000, -5456,
  -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232,
  9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
]);

/** Lower sub-band 4-bit inverse quantizer (QQ4), the embedded core used for prediction and adaptation. */
export const QM4 = Int32Array.from([0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0]);

/** 4-bit code → 3-bit magnitude index for the scale factor adaptation (RIL → IL4). */
export const RL42 = Int32Array.from([0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0]);

/** Lower sub-band logarithmic scale factor multipliers (WL). */
export const WL = Int32Array.from([-60, -30, 58, 172, 334, 538, 1198, 3042]);

/** Inverse log2 table: 2048 · 2^(i/32), i = 0..31 (ILB). */
export const ILB = Int32Array.from([
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444,
  3520, 3597, 3676, 3756, 3838, 3922, 4008,
]);

/** Higher sub-band 2-bit quantizer: codes for interval 1/2 of a negative / positive difference (IHN / IHP). */
export const IHN = Int32Array.from([0, 1, 0]);
export const IHP = Int32Array.from([0, 3, 2]);
/** Higher sub-band decision level, × scale factor / 4096. */
export const Q2 = 564;
/** Higher sub-band inverse quantizer (QQ2 scaled by 2^15 / 8). */
export const QM2 = Int32Array.from([-7408, -1616, 7408, 1616]);
/** Higher sub-band code → magnitude index (RH2) and logarithmic scale factor multipliers (WH). */
export const RH2 = Int32Array.from([2, 1, 2, 1]);
export const WH = Int32Array.from([0, -214, 798]);

/** Limits of the logarithmic scale factors (NBL, NBH) and of the reconstructed sub-band signals. */
export const NBL_MAX = 18432;
export const NBH_MAX = 22528;
