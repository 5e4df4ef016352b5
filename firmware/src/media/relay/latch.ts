/**
 * Symmetric RTP latching (RFC 4961; "comedia"): send to wherever the leg's
 * valid media comes from, which gets through NATs that rewrite the phone's
 * port. Once latched, another source is ignored, so a stray or hostile
 * sender cannot take the stream over; it may take the latch only when the
 * latched source has been silent for `relatchAfterMs` (the phone really
 * moved, e.g. a NAT binding expired) or after the leg's SDP changed its
 * address (reset()).
 */

export type LatchResult = 'same' | 'latched' | 'relatched' | 'rejected';

export class Latch {
  address: string | null = null;
  port = 0;
  private lastSeen = 0;

  /** The latched source was heard by another path (the kernel fast path's counters). */
  touch(now: number): void {
    if (this.address !== null) this.lastSeen = now;
  }

  reset(): void {
    this.address = null;
    this.port = 0;
  }

  accept(address: string, port: number, now: number, relatchAfterMs: number): LatchResult {
    if (this.address === address && this.port === port) {
      this.lastSeen = now;
      return 'same';
    }
    if (this.address === null) {
      this.address = address;
      this.port = port;
      this.lastSeen = now;
      return 'latched';
    }
    if (now - this.lastSeen >= relatchAfterMs) {
      this.address = address;
      this.port = port;
      this.lastSeen = now;
      return 'relatched';
    }
    return 'rejected';
  }
}
