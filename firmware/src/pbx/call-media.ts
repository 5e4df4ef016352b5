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
 *
 * Side b has a branch per gateway address while the call rings: a ring-all
 * (or an extension with several phones) can fork to phones reached through
 * different interfaces (the LAN, a second subnet, an uplink), and each must be
 * offered the gateway's address on the interface that faces it (TESTING-NOTES:
 * a wrong one gives one-way or no audio). Forks through the same address share
 * that address's leg; the fork that answers makes its branch side b, and the
 * other branches' legs are closed.
 *
 *   openBranch(addr) ─▶ offerToBranch(addr) ─▶ … ─▶ chooseBranch(addr) ─▶ relayAnswer
 */
import type { MediaAnchor, RelayLeg } from '../media/relay/index.js';
import {
  b2buaAnswerDirection,
  getAudioCodecs,
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

/** Side b's leg toward the forks that leave through one gateway address, while the call rings. */
interface Branch {
  leg: RelayLeg;
  originator: SdpOriginator;
  /** The offer every fork through this address was sent (the same bytes for each). */
  sent: Sdp | null;
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
  /** Side b's legs by gateway address while forks ring (emptied when a branch is chosen). */
  private readonly branches = new Map<string, Branch>();
  private readonly branchOpening = new Map<string, Promise<Branch>>();
  /** The caller's initial offer as the branches were sent it (null: the INVITE had none). */
  private initialOffer: Sdp | null = null;
  private branchChosen = false;
  private closed = false;

  constructor(private readonly options: CallMediaOptions) {}

  leg(side: Side): RelayLeg | null {
    return this.legs[side];
  }

  /**
   * Open this side's relay leg on the gateway address facing it (idempotent for the same address;
   * another address replaces the leg). The call opens side a this way; side b's legs come from
   * openBranch() while forks ring. Concurrent calls for one side wait for each other, so two
   * never open two legs of which one leaks its RTP ports.
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

  /**
   * Side b's leg for the forks that leave through `localAddress`: opened on that address the
   * first time, shared by every later fork through it (an offer to several forks with the same
   * address and port is fine: only the one that answers is bridged).
   */
  async openBranch(localAddress: string): Promise<RelayLeg> {
    const existing = this.branches.get(localAddress);
    if (existing) return existing.leg;
    let opening = this.branchOpening.get(localAddress);
    if (!opening) {
      opening = this.openBranchNow(localAddress);
      this.branchOpening.set(localAddress, opening);
      const forget = (): void => {
        if (this.branchOpening.get(localAddress) === opening) this.branchOpening.delete(localAddress);
      };
      opening.then(forget, forget);
    }
    return (await opening).leg;
  }

  private async openBranchNow(localAddress: string): Promise<Branch> {
    if (this.closed || this.branchChosen) throw new PgwError('PGW_E_SIP_STATE', 'the callee side is no longer ringing');
    // Same affinity as side a: a threaded relay opens them on one worker, so whichever branch answers can be bridged.
    const leg = await this.options.relay.openLeg({ localAddress, label: `${this.options.label}/b`, affinity: this.options.label });
    if (this.closed || this.branchChosen) {
      await leg.close();
      throw new PgwError('PGW_E_SIP_STATE', 'the call stopped ringing while a callee leg was opening');
    }
    const branch: Branch = { leg, originator: new SdpOriginator({ address: localAddress }), sent: null };
    this.branches.set(localAddress, branch);
    return branch;
  }

  /**
   * The initial offer for a fork through `localAddress` (its branch open): the caller's offer
   * relayed with that branch's address and port, or a fresh offer when the INVITE had none.
   */
  offerToBranch(localAddress: string, received: Sdp | null): Sdp {
    const branch = this.branches.get(localAddress);
    if (!branch) throw new PgwError('PGW_E_SIP_STATE', `no callee leg on ${localAddress}`);
    this.initialOffer = received;
    branch.sent ??= this.makeOffer(received, branch.leg, branch.originator);
    return branch.sent;
  }

  /**
   * A fork through `localAddress` answered: its branch becomes side b, with the offer it was
   * sent outstanding (relayAnswer takes the answer next); every other branch's leg is closed
   * (the promise: when they are). Throws at once when there is no such branch.
   */
  chooseBranch(localAddress: string): Promise<void> {
    const branch = this.branches.get(localAddress);
    if (!branch?.sent || this.branchChosen) throw new PgwError('PGW_E_SIP_STATE', `no callee branch on ${localAddress} to choose`);
    this.branchChosen = true;
    this.legs.b = branch.leg;
    this.originators.b = branch.originator;
    this.lastLocal.b = branch.sent;
    this.pending = { offerer: 'a', received: this.initialOffer, sent: branch.sent, previous: null };
    const losers = [...this.branches.values()].filter((x) => x !== branch);
    this.branches.clear();
    return Promise.all(losers.map((x) => x.leg.close())).then(() => undefined);
  }

  /** The legs of the branches still ringing (none once one is chosen). */
  branchLegs(): RelayLeg[] {
    return [...this.branches.values()].map((x) => x.leg);
  }

  private makeOffer(received: Sdp | null, leg: RelayLeg, originator: SdpOriginator): Sdp {
    return received
      ? relayOffer({ from: received, localAddress: leg.localAddress, localPort: leg.rtpPort, supported: this.options.codecs, originator }).offer
      : buildOffer({ localAddress: leg.localAddress, localPort: leg.rtpPort, codecs: this.options.codecs, originator });
  }

  /** The offer toward the other side for an offer received from `offerer` (or a fresh one for a late offer). */
  relayOffer(offerer: Side, received: Sdp | null): Sdp {
    const toward = other(offerer);
    const leg = this.requireLeg(toward);
    const sent = this.makeOffer(received, leg, this.originators[toward]!);
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

  /**
   * The side that received our offer in a 2xx for the offer relayed from the other side never
   * gave a usable answer (no answer in its ACK in time, its re-INVITE cancelled, an answer that
   * does not fit): answer the relayed offer so that side keeps the session it had (its
   * direction, its codec first), and forget the offer it was sent (abandonOffer). The offerer's
   * leg takes its new offer (it may have moved its address or port); the other leg is untouched.
   */
  answerKeepingPrevious(): Sdp {
    const p = this.pending;
    if (!p?.received) throw new PgwError('PGW_E_SDP_NEGOTIATION', 'no relayed offer outstanding');
    const keeper = other(p.offerer);
    const kept = this.lastRemote[keeper];
    const keptIndex = kept ? findAudioStream(kept) : -1;
    const keptCodecs = kept && keptIndex >= 0 ? getAudioCodecs(kept.media[keptIndex]!).map((c) => `${c.name}/${c.clockRate}`) : [];
    const offererLeg = this.requireLeg(p.offerer);
    const negotiated = negotiateAnswer({
      offer: p.received,
      supported: [...keptCodecs.slice(0, 1), ...this.options.codecs],
      localAddress: offererLeg.localAddress,
      localPort: offererLeg.rtpPort,
      ...(kept && keptIndex >= 0 ? { direction: b2buaAnswerDirection(p.received, Math.max(0, findAudioStream(p.received)), kept, keptIndex) } : {}),
      originator: this.originators[p.offerer]!,
    });
    offererLeg.setSdp({ local: negotiated.answer, remote: p.received });
    this.lastRemote[p.offerer] = p.received;
    this.lastLocal[p.offerer] = negotiated.answer;
    this.abandonOffer();
    return negotiated.answer;
  }

  /** True while the gateway's offer to `side` in the 2xx to its late-offer INVITE awaits the answer in the ACK. */
  awaitingLateAnswer(side: Side): boolean {
    return this.pending !== null && this.lateOfferTo === side;
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
    const branches = [...this.branches.values()].map((x) => x.leg);
    this.branches.clear();
    await Promise.all([this.legs.a?.close(), this.legs.b?.close(), ...branches.map((leg) => leg.close())]);
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
