/**
 * RFC 3261 §14.1: when a re-INVITE (or UPDATE, RFC 3311 §5.1) gets 491
 * Request Pending, retry after a random time. The owner of the Call-ID (the
 * side that sent the initial INVITE) waits 2.1–4 s in units of 10 ms; the
 * other side waits 0–2 s in units of 10 ms. The asymmetry breaks the tie.
 */
export function glareRetryDelayMs(ownsCallId: boolean, random: () => number): number {
  if (ownsCallId) return 2100 + 10 * Math.floor(random() * 191); // 2100..4000
  return 10 * Math.floor(random() * 201); // 0..2000
}

/** RFC 3261 §14.2 / RFC 3311 §5.2: Retry-After for a 500 to an overlapping request, 0–10 s. */
export function overlapRetryAfterSeconds(random: () => number): number {
  return Math.floor(random() * 11);
}
