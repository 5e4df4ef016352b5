/**
 * Replay protection for qop=auth (RFC 7616 §3.4, §5.10): the nonce-count a
 * client sends with one nonce must go up with every request. We remember the
 * highest count seen for the most recently used nonces in a bounded LRU; a
 * nonce that fell out of it is accepted again from any count, which is the
 * "within reason" trade: memory stays bounded whatever the load, and a replay
 * window only opens for nonces idle long enough to be evicted (and they still
 * expire with their TTL).
 */
export class NonceCountTracker {
  private readonly max: number;
  /** Map iteration order is insertion order: the first key is the least recently used. */
  private readonly seen = new Map<string, number>();

  constructor(maxEntries = 10_000) {
    this.max = Math.max(1, maxEntries);
  }

  /** Record nc for nonce; false when it is not above the last count seen (a replay). */
  accept(nonce: string, nc: number): boolean {
    const last = this.seen.get(nonce);
    if (last !== undefined && nc <= last) return false;
    this.seen.delete(nonce);
    this.seen.set(nonce, nc);
    if (this.seen.size > this.max) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }

  size(): number {
    return this.seen.size;
  }
}
