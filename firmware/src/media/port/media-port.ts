/**
 * A media port (after PJMEDIA's pjmedia_port): something that produces
 * and/or consumes fixed-size frames of 16-bit linear PCM at one sample rate.
 * Players and tone generators produce, recorders consume, a mixer does both
 * for each of its members. "Play a prompt to a call" is connecting a player
 * to the leg's port; everything between (codec, RTP) is the leg's business.
 */
export interface MediaPort {
  /** Samples per second: 8000 (G.711) or 16000 (G.722). */
  readonly sampleRate: number;
  /** Samples in one frame (20 ms: 160 at 8 kHz, 320 at 16 kHz). */
  readonly samplesPerFrame: number;
  /**
   * Fill `out` (samplesPerFrame long) with the next frame. Returns false
   * when the port has nothing (ended, or a consumer-only port); `out` is
   * then silence.
   */
  getFrame(out: Int16Array): boolean;
  /** Take one frame (consumer ports; producers ignore it). */
  putFrame(frame: Int16Array): void;
}

/** 20 ms frames, the packetisation every phone defaults to. */
export function frameSamples(sampleRate: number, ptimeMs = 20): number {
  return (sampleRate * ptimeMs) / 1000;
}

export function saturate(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : Math.round(x);
}
