/**
 * The media half of one B2BUA call: a relay leg on each side, anchored on
 * the gateway's address facing that side, and the offer/answer translation
 * between the two SIP legs.
 *
 *   side a (caller)                gateway                 side b (callee)
 *   offer(A) ───────────▶ relayOffer: A's codecs, our ─────────▶ offer(B)
 *                          address/port toward b
 *   answer(A) ◀────────── negotiateAnswer: the codec B ◀──────── answer(B)
 *                          chose, our address toward a
 *
 * Giving A the codec B chose means both legs use one codec and the relay
 * passes packets through without decoding. Either side may offer later
 * (hold, resume, codec change): the same two steps run the other way round.
 * An unchanged repeat of a side's last offer (a session refresh) is answered
 * with the last answer, without bothering the other side.
 */
import type { MediaAnchor, RelayLeg } from '../media/relay/index.js';
import {
  b2buaAnswerDirection,
  buildOffer,
  cloneSdp,
  findAudioStream,
  negotiateAnswer,
  parseSdp,
  readAnswer,
  relayOffer,
  serializeSdp,
  SdpOriginator,
  type Sdp,
} from '../media/sdp/index.js';
import type { SessionBody } from '../sip/ua/session-body.js';
import { PgwError } from '../util/errors.js';

export type Side = 'a' | 'b';

const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

export function sdpBody(sdp: Sdp): SessionBody {
  return { contentType: 'application/sdp', body: Buffer.from(serializeSdp(sdp)) };
}

/** The SDP in a session body; PGW_E_SDP_PARSE (→ 488 / 400) when it is something else. */
export function sdpOf(body: SessionBody): Sdp {
  if (!/^application\/sdp\b/i.test(body.contentType)) {
    throw new PgwError('PGW_E_SDP_NEGOTIATION', `unsupported session description type ${body.contentType}`, { context: { status: 415 } });
  }
  return parseSdp(body.body.toString('utf8'));
}

interface Pending {
  offerer: Side;
  /** The offer received from the offerer; null for a late offer (INVITE without SDP). */
  received: Sdp | null;
  /** The offer the gateway sent toward the other side. */
  sent: Sdp;
  /** What that side had been sent before this offer: it stands again if the offer is refused. */
  previous: Sdp | null;
}

export interface CallMediaOptions {
  relay: MediaAnchor;
  /** Codec names in the practice's preference order (PCMA, PCMU, G722). */
  codecs: readonly string[];
  /** For logs and the admin API. */
  label: string;
}

export class CallMedia {
  private readonly legs: Record<Side, RelayLeg | null> = { a: null, b: null };
  private readonly opening: Record<Side, Promise<RelayLeg> | null> = { a: null, b: null };
  private readonly originators: Record<Side, SdpOriginator | null> = { a: null, b: null };
  /** The last SDP each side sent us, and the last we sent it. */
  private readonly lastRemote: Record<Side, Sdp | null> = { a: null, b: null };
  private readonly lastLocal: Record<Side, Sdp | null> = { a: null, b: null };
  private pending: Pending | null = null;
  /** The side a late-offer INVITE came from, while the gateway's offer to it awaits the answer in the ACK. */
  private lateOfferTo: Side | null = null;
  private closed = false;

  constructor(private readonly options: CallMediaOptions) {}

  leg(side: Side): RelayLeg | null {
    return this.legs[side];
  }

  /**
   * Open this side's relay leg on the gateway address facing it (idempotent for the same address).
   * Concurrent calls for one side wait for each other: a ring-all call forks to every member at
   * once, and without that each fork opened a leg of its own, offered its phone that leg's port,
   * and all but the last leg leaked their RTP ports.
   */
  async openLeg(side: Side, localAddress: string): Promise<RelayLeg> {
    for (;;) {
      const inFlight = this.opening[side];
      if (!inFlight) break;
      await inFlight.catch(() => undefined);
      if (this.opening[side] === inFlight) this.opening[side] = null;
    }
    const opening = this.openLegNow(side, localAddress);
    this.opening[side] = opening;
    try {
      return await opening;
    } finally {
      if (this.opening[side] === opening) this.opening[side] = null;
    }
  }

  private async openLegNow(side: Side, localAddress: string): Promise<RelayLeg> {
    if (this.closed) throw new PgwError('PGW_E_SIP_STATE', 'call media already closed');
    const existing = this.legs[side];
    if (existing && existing.localAddress === localAddress) return existing;
    if (existing) await existing.close();
    const leg = await this.options.relay.openLeg({ localAddress, label: `${this.options.label}/${side}`, affinity: this.options.label });
    if (this.closed) {
      await leg.close();
      throw new PgwError('PGW_E_SIP_STATE', 'call media closed while opening a leg');
    }
    this.legs[side] = leg;
    this.originators[side] = new SdpOriginator({ address: localAddress });
    return leg;
  }

  /** The offer toward the other side for an offer received from `offerer` (or a fresh one for a late offer). */
  relayOffer(offerer: Side, received: Sdp | null): Sdp {
    const toward = other(offerer);
    const leg = this.requireLeg(toward);
    const sent = received
      ? relayOffer({
          from: received,
          localAddress: leg.localAddress,
          localPort: leg.rtpPort,
          supported: this.options.codecs,
          originator: this.originators[toward]!,
        }).offer
      : buildOffer({ localAddress: leg.localAddress, localPort: leg.rtpPort, codecs: this.options.codecs, originator: this.originators[toward]! });
    this.pending = { offerer, received, sent, previous: this.lastLocal[toward] };
    this.lastLocal[toward] = sent;
    return sent;
  }

  /**
   * The other side answered the offer relayed to it. Returns what goes back
   * to the offerer: the answer to its offer, or, for a late offer, an offer
   * (whose answer then arrives through applyLateAnswer).
   */
  relayAnswer(answer: Sdp): { kind: 'answer' | 'offer'; sdp: Sdp } {
    const p = this.pending;
    if (!p) throw new PgwError('PGW_E_SDP_NEGOTIATION', 'an answer arrived with no offer outstanding');
    const answerer = other(p.offerer);
    const reading = readAnswer({ offer: p.sent, answer });
    this.requireLeg(answerer).setSdp({ local: p.sent, remote: answer });
    this.lastRemote[answerer] = answer;
    const offererLeg = this.requireLeg(p.offerer);
    const codec = `${reading.codec.name}/${reading.codec.clockRate}`;
    const preference = [codec, ...this.options.codecs];
    if (!p.received) {
      // Late offer: offer the offerer the codec the other side chose (pass-through), the rest as fallbacks.
      const offer = buildOffer({
        localAddress: offererLeg.localAddress,
        localPort: offererLeg.rtpPort,
        codecs: preference,
        originator: this.originators[p.offerer]!,
      });
      const previous = this.lastLocal[p.offerer];
      this.lastLocal[p.offerer] = offer;
      this.pending = { offerer: answerer, received: null, sent: offer, previous };
      this.lateOfferTo = p.offerer;
      this.bridge();
      return { kind: 'offer', sdp: offer };
    }
    const negotiated = negotiateAnswer({
      offer: p.received,
      supported: preference,
      localAddress: offererLeg.localAddress,
      localPort: offererLeg.rtpPort,
      direction: b2buaAnswerDirection(p.received, Math.max(0, findAudioStream(p.received)), answer, reading.mediaIndex),
      originator: this.originators[p.offerer]!,
    });
    offererLeg.setSdp({ local: negotiated.answer, remote: p.received });
    this.lastRemote[p.offerer] = p.received;
    this.lastLocal[p.offerer] = negotiated.answer;
    this.pending = null;
    this.bridge();
    return { kind: 'answer', sdp: negotiated.answer };
  }

  /** The answer (in the ACK) to the offer made for a late-offer INVITE. */
  applyLateAnswer(side: Side, answer: Sdp): void {
    const p = this.pending;
    if (!p || this.lateOfferTo !== side) throw new PgwError('PGW_E_SDP_NEGOTIATION', 'no late offer outstanding on this side');
    readAnswer({ offer: p.sent, answer });
    this.requireLeg(side).setSdp({ local: p.sent, remote: answer });
    this.lastRemote[side] = answer;
    this.pending = null;
    this.lateOfferTo = null;
  }

  /** A repeat of a side's last offer (session refresh): the answer it got last time, or null when it changed. */
  unchangedAnswer(offerer: Side, offer: Sdp): Sdp | null {
    const last = this.lastRemote[offerer];
    const answer = this.lastLocal[offerer];
    if (!last || !answer || serializeSdp(last) !== serializeSdp(offer)) return null;
    return answer;
  }

  /** The SDP last sent to a side (for offers we must repeat, e.g. a refresh without a body). */
  lastSentTo(side: Side): Sdp | null {
    return this.lastLocal[side];
  }

  /**
   * Forget a relayed offer the other side refused (491, 488): the call stays as it was.
   * What that side was last sent goes back to the description it accepted, so a later
   * refresh repeats that and not the refused offer (a refused hold would put it on hold);
   * it is stamped afresh because the refused offer used the next o= version (RFC 3264 §8).
   */
  abandonOffer(): void {
    const p = this.pending;
    this.pending = null;
    this.lateOfferTo = null;
    if (!p) return;
    const toward = other(p.offerer);
    this.lastLocal[toward] = p.previous ? this.originators[toward]!.stamp(cloneSdp(p.previous)) : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.legs.a?.close(), this.legs.b?.close()]);
  }

  private bridge(): void {
    const a = this.legs.a;
    const b = this.legs.b;
    if (a && b && a.peer !== b) this.options.relay.bridge(a, b);
  }

  private requireLeg(side: Side): RelayLeg {
    const leg = this.legs[side];
    if (!leg) throw new PgwError('PGW_E_SIP_STATE', `no media leg on side ${side}`);
    return leg;
  }
}
