/**
 * A fixed-depth jitter buffer for one RTP stream (what a port needs before
 * it can mix or record a leg's audio; the relay itself never buffers).
 * Frames are slotted by sequence number; playout starts after `prefetch`
 * frames and then takes one frame per tick: the next in sequence, or a
 * "lost" slot if it has not arrived (the caller conceals it). Frames that
 * arrive after their slot was played are dropped and counted.
 */
import { seqDelta } from '../rtp/rtp-header.js';

export type JitterFrame = { kind: 'frame'; seq: number; timestamp: number; payload: Uint8Array } | { kind: 'lost'; seq: number } | { kind: 'empty' };

export interface JitterStats {
  received: number;
  played: number;
  lost: number;
  late: number;
  overflow: number;
}

export class JitterBuffer {
  private readonly slots = new Map<number, { timestamp: number; payload: Uint8Array }>();
  private readonly capacity: number;
  private readonly prefetch: number;
  private nextSeq: number | null = null;
  private playing = false;
  readonly stats: JitterStats = { received: 0, played: 0, lost: 0, late: 0, overflow: 0 };

  constructor(options: { capacity?: number; prefetch?: number } = {}) {
    this.capacity = options.capacity ?? 50;
    this.prefetch = Math.min(options.prefetch ?? 3, this.capacity);
  }

  get depth(): number {
    return this.slots.size;
  }

  /** Store a packet's payload (copied: the caller's buffer may be reused). */
  put(seq: number, timestamp: number, payload: Uint8Array): void {
    this.stats.received++;
    if (this.nextSeq === null) this.nextSeq = seq;
    const ahead = seqDelta(seq, this.nextSeq);
    if (ahead < 0) {
      this.stats.late++;
      return;
    }
    if (ahead >= this.capacity) {
      // Far ahead: the stream jumped (or we stalled). Start again from here.
      this.stats.overflow += this.slots.size;
      this.slots.clear();
      this.nextSeq = seq;
      this.playing = false;
    }
    this.slots.set(seq, { timestamp, payload: payload.slice() });
  }

  /** The frame for this tick. */
  get(): JitterFrame {
    if (this.nextSeq === null) return { kind: 'empty' };
    if (!this.playing) {
      if (this.slots.size < this.prefetch) return { kind: 'empty' };
      this.playing = true;
    }
    if (this.slots.size === 0) {
      // Ran dry: rebuffer rather than count silence as loss.
      this.playing = false;
      return { kind: 'empty' };
    }
    const seq = this.nextSeq;
    this.nextSeq = (seq + 1) & 0xffff;
    const f = this.slots.get(seq);
    if (!f) {
      this.stats.lost++;
      return { kind: 'lost', seq };
    }
    this.slots.delete(seq);
    this.stats.played++;
    return { kind: 'frame', seq, timestamp: f.timestamp, payload: f.payload };
  }
}
