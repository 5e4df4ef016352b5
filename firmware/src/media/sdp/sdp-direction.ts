/**
 * Media direction (RFC 3264 §5.1, §6.1, §8.4) and the hold/resume mapping a
 * media-anchoring B2BUA needs.
 *
 * A direction is written from the point of view of the side that wrote the
 * SDP: `sendonly` from a phone means "I will send, do not send to me" (it
 * put the call on hold). The gateway is transparent for hold: what leg A
 * says in its offer is what the gateway says in its offer toward leg B
 * (sendonly stays sendonly, inactive stays inactive), and leg B's answer
 * (recvonly) becomes the gateway's answer to A. Only the legacy form of
 * hold, c=0.0.0.0 (RFC 2543; RFC 3264 §8.4), is normalised: the gateway
 * always writes its real address and an explicit direction.
 */
import type { Direction, Sdp, SdpAttribute, SdpMedia } from './sdp-types.js';
import { isDirection } from './sdp-types.js';

export interface DirectionBits {
  send: boolean;
  recv: boolean;
}

export function directionBits(d: Direction): DirectionBits {
  switch (d) {
    case 'sendrecv':
      return { send: true, recv: true };
    case 'sendonly':
      return { send: true, recv: false };
    case 'recvonly':
      return { send: false, recv: true };
    case 'inactive':
      return { send: false, recv: false };
    default: {
      const never: never = d;
      throw new Error(`unknown direction ${String(never)}`);
    }
  }
}

export function directionFromBits(b: DirectionBits): Direction {
  if (b.send && b.recv) return 'sendrecv';
  if (b.send) return 'sendonly';
  if (b.recv) return 'recvonly';
  return 'inactive';
}

/** The direction the other side sees: sendonly ↔ recvonly, the others unchanged. */
export function reverseDirection(d: Direction): Direction {
  const b = directionBits(d);
  return directionFromBits({ send: b.recv, recv: b.send });
}

function directionAttribute(attrs: readonly SdpAttribute[]): Direction | null {
  for (const a of attrs) {
    const n = a.name.toLowerCase();
    if (a.value === null && isDirection(n)) return n;
  }
  return null;
}

/** RFC 2543 hold: a connection address of 0.0.0.0 (and, seen in the wild, ::). */
export function isNullAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** The connection address that applies to a media section: media-level c= wins over session-level. */
export function effectiveAddress(sdp: Sdp, m: SdpMedia): string | null {
  return (m.connection ?? sdp.connection)?.address.split('/')[0] ?? null;
}

/** The direction as written by attributes only: media level, then session level, default sendrecv (RFC 3264 §5.1). */
export function getDeclaredDirection(sdp: Sdp, mediaIndex: number): Direction {
  const m = sdp.media[mediaIndex];
  return (m && directionAttribute(m.attributes)) ?? directionAttribute(sdp.attributes) ?? 'sendrecv';
}

/**
 * The direction a media section really means. Legacy hold (c=0.0.0.0,
 * RFC 3264 §8.4) means "do not send to me": the holder keeps at most its
 * sending half, so sendrecv → sendonly and recvonly → inactive.
 */
export function getDirection(sdp: Sdp, mediaIndex: number): Direction {
  const declared = getDeclaredDirection(sdp, mediaIndex);
  const m = sdp.media[mediaIndex];
  const address = m ? effectiveAddress(sdp, m) : null;
  if (address !== null && isNullAddress(address)) return directionFromBits({ send: directionBits(declared).send, recv: false });
  return declared;
}

/** True if this media section puts the other side on hold (it will not receive: sendonly, inactive or legacy c=0.0.0.0). */
export function isHold(sdp: Sdp, mediaIndex: number): boolean {
  return !directionBits(getDirection(sdp, mediaIndex)).recv;
}

/** Write the direction at media level, replacing any media-level direction attribute in place. */
export function setMediaDirection(m: SdpMedia, d: Direction): void {
  const i = m.attributes.findIndex((a) => a.value === null && isDirection(a.name.toLowerCase()));
  if (i >= 0) {
    m.attributes[i] = { name: d, value: null };
    m.attributes = m.attributes.filter((a, j) => j <= i || !(a.value === null && isDirection(a.name.toLowerCase())));
  } else {
    m.attributes.push({ name: d, value: null });
  }
}

/**
 * Write the direction of one media section (or of all, when mediaIndex is
 * omitted). A session-level direction is pushed down to every media section
 * first so that the others keep their meaning.
 */
export function setDirection(sdp: Sdp, d: Direction, mediaIndex?: number): void {
  const session = directionAttribute(sdp.attributes);
  if (session !== null) {
    sdp.attributes = sdp.attributes.filter((a) => !(a.value === null && isDirection(a.name.toLowerCase())));
    for (const m of sdp.media) if (directionAttribute(m.attributes) === null) m.attributes.push({ name: session, value: null });
  }
  sdp.media.forEach((m, i) => {
    if (mediaIndex === undefined || i === mediaIndex) setMediaDirection(m, d);
  });
}

/**
 * The direction to put in an answer (RFC 3264 §6.1): the answerer can only
 * send if the offerer receives and only receive if the offerer sends;
 * within that it says what it wants.
 */
export function answerDirection(offered: Direction, wanted: Direction = 'sendrecv'): Direction {
  const o = directionBits(offered);
  const w = directionBits(wanted);
  return directionFromBits({ send: o.recv && w.send, recv: o.send && w.recv });
}

/**
 * B2BUA hold mapping, offer side: the direction the gateway writes in the
 * offer it sends toward leg B when leg A offered `fromOffer`. The gateway
 * relays A's intent unchanged (sendonly → sendonly, inactive → inactive),
 * except that legacy c=0.0.0.0 becomes an explicit direction, because the
 * gateway always writes its own real address.
 */
export function b2buaOfferDirection(fromOffer: Sdp, mediaIndex: number): Direction {
  return getDirection(fromOffer, mediaIndex);
}

/**
 * B2BUA hold mapping, answer side: the direction of the gateway's answer to
 * leg A, given A's offer and leg B's answer to the relayed offer (B answered
 * recvonly to sendonly: A gets recvonly). Kept within what A's offer allows.
 */
export function b2buaAnswerDirection(offerFromA: Sdp, offerIndex: number, answerFromB: Sdp, answerIndex: number): Direction {
  return answerDirection(getDirection(offerFromA, offerIndex), getDirection(answerFromB, answerIndex));
}
