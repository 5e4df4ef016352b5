/**
 * SSRC / sequence / timestamp continuity of the stream the gateway sends to
 * one leg (RFC 3550 §5.1, §8.2). The first source passes through unchanged.
 * When the source changes (the B2BUA re-bridged the leg after a transfer or
 * a hunt-group answer, or the far end restarted its stream), the output
 * keeps its SSRC and continues sequence numbers at last + 1 and timestamps
 * at last + the time that passed (at least one frame), with the marker bit
 * set: to the phone it is one stream with a new talkspurt, not a new
 * source it would have to re-sync to (and some phones simply go silent on).
 */
import { rtpSequence, rtpSsrc, rtpTimestamp, seqDelta, setRtpMarker, setRtpSequence, setRtpSsrc, setRtpTimestamp, tsDelta } from '../rtp/rtp-header.js';

/** 20 ms at 8000 Hz: the smallest step the output timestamp takes across a source change. */
const DEFAULT_FRAME_TS = 160;

export class StreamRenumberer {
  /** The SSRC this leg sees; null until the first packet. */
  outSsrc: number | null = null;
  /** The SSRC of the current source. */
  srcSsrc = 0;
  seqOffset = 0;
  tsOffset = 0;
  private lastSeq = 0;
  private lastTs = 0;
  private lastAt = 0;
  private pendingSwitch = false;

  /** Force renumbering from the next packet even if the new source reuses the old SSRC. */
  sourceChanged(): void {
    if (this.outSsrc !== null) this.pendingSwitch = true;
  }

  /** A source change is waiting for its first packet. */
  get switchPending(): boolean {
    return this.pendingSwitch;
  }

  /**
   * Packets went to this leg by another path (the kernel fast path forwards
   * the source's packets unchanged): move the last sequence number on by
   * that many, so that the next switch continues after them. The timestamp
   * needs nothing: a switch advances it by the time that passed.
   */
  advance(packets: number): void {
    if (this.outSsrc === null || packets <= 0) return;
    this.lastSeq = (this.lastSeq + packets) & 0xffff;
  }

  /** True when packets are rewritten (the output differs from the source). */
  get isRewriting(): boolean {
    return this.outSsrc !== null && (this.outSsrc !== this.srcSsrc || this.seqOffset !== 0 || this.tsOffset !== 0);
  }

  /** Rewrite buf's header in place for the output stream. now in ms (monotonic). */
  rewrite(buf: Uint8Array, now: number, clockRate = 8000): void {
    const ssrc = rtpSsrc(buf);
    const seq = rtpSequence(buf);
    const ts = rtpTimestamp(buf);
    if (this.outSsrc === null) {
      this.outSsrc = ssrc;
      this.srcSsrc = ssrc;
      this.lastSeq = seq;
      this.lastTs = ts;
      this.lastAt = now;
      return;
    }
    if (ssrc !== this.srcSsrc || this.pendingSwitch) {
      this.pendingSwitch = false;
      this.srcSsrc = ssrc;
      this.seqOffset = (this.lastSeq + 1 - seq) & 0xffff;
      const elapsed = Math.max(DEFAULT_FRAME_TS, Math.round(((now - this.lastAt) * clockRate) / 1000));
      this.tsOffset = (this.lastTs + elapsed - ts) >>> 0;
      setRtpMarker(buf, true);
    }
    const outSeq = (seq + this.seqOffset) & 0xffff;
    const outTs = (ts + this.tsOffset) >>> 0;
    if (ssrc !== this.outSsrc) setRtpSsrc(buf, this.outSsrc);
    if (this.seqOffset !== 0) setRtpSequence(buf, outSeq);
    if (this.tsOffset !== 0) setRtpTimestamp(buf, outTs);
    // Track the highest, so that a reordered packet does not pull the next switch backwards.
    if (seqDelta(outSeq, this.lastSeq) > 0) this.lastSeq = outSeq;
    if (tsDelta(outTs, this.lastTs) > 0) this.lastTs = outTs;
    this.lastAt = now;
  }
}
