/**
 * One call leg's media on the gateway: an RTP/RTCP socket pair bound on the
 * address facing that leg, the SDP-derived configuration, symmetric
 * latching, the renumbering of what is sent to it, and its counters.
 * Legs are made and bridged by MediaRelay; the forwarding path is here.
 *
 *   idle ──setSdp──► active ──setSdp──► active
 *     │                │
 *     └────close───────┴──► closed
 *
 * Per packet the path does no allocation of its own: headers are read and
 * rewritten in place in the buffer the socket delivered, and that same
 * buffer is sent on the other leg's socket.
 */
import { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { PgwError } from '../../util/errors.js';
import type { RtpPortPair } from '../rtp/port-pool.js';
import { classifyPacket, isValidRtcpCompound, rewriteRtcpSsrcs } from '../rtp/rtcp.js';
import type { RtcpRewrite } from '../rtp/rtcp.js';
import { rtpPayloadOffset, rtpSequence, rtpSsrc, seqDelta, setRtpPayloadType } from '../rtp/rtp-header.js';
import { createTranscoder } from '../codec/transcoder.js';
import type { PayloadTranscoder } from '../codec/transcoder.js';
import { Latch } from './latch.js';
import { StreamRenumberer } from './stream-renumberer.js';
import { describeLegConfig, emptyLegConfig, legConfigFromSdp, sameLegConfig } from './leg-config.js';
import type { LegConfig, LegSdp } from './leg-config.js';
import { codecName, transcodableCodec } from './codec-ids.js';
import type { LegStats } from './leg-stats.js';
import type { DeadMediaEvent, LatchEvent, LegState, RelayLeg } from './relay-api.js';
import { bump, LC, newLegCounters, readLegCounters } from './leg-counters.js';
import type { LegCounters } from './leg-counters.js';

const TRANSITIONS: Readonly<Record<LegState, readonly LegState[]>> = {
  idle: ['active', 'closed'],
  active: ['active', 'closed'],
  closed: [],
};

export interface MediaLegEvents {
  dead: [DeadMediaEvent];
  latched: [LatchEvent];
  closed: [RelayLeg];
  /** @internal new SDP applied (the relay takes the call out of the kernel fast path). */
  reconfigured: [];
}

export interface MediaLegOptions {
  id: string;
  label?: string;
  pair: RtpPortPair;
  clock: Clock;
  logger: Logger;
  relatchAfterMs: number;
  /** Where to keep the counters (a row of a shared buffer when another thread reads them). */
  counters?: LegCounters;
}

/** A gap bigger than this in sequence numbers is a restart, not loss (RFC 3550 A.1 MAX_DROPOUT). */
const MAX_DROPOUT = 3000;

export class MediaLeg extends EventEmitter<MediaLegEvents> implements RelayLeg {
  readonly id: string;
  readonly label: string | null;
  readonly localAddress: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;

  private stateValue: LegState = 'idle';
  private readonly pair: RtpPortPair;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly relatchAfterMs: number;
  private config: LegConfig = emptyLegConfig();
  /** @internal set by MediaRelay.bridge */
  peerLeg: MediaLeg | null = null;

  private readonly rtpLatch = new Latch();
  private readonly rtcpLatch = new Latch();
  /** Renumbering of what the gateway sends to this leg. */
  readonly output = new StreamRenumberer();
  /** Transcoders into this leg's codec, by source codec id; cleared when either side changes. */
  private transcoders = new Map<number, PayloadTranscoder | null>();

  // Receive-side sequence tracking for loss.
  private rxSsrc = -1;
  private rxMaxSeq = 0;

  // Dead-media monitoring (monotonic ms).
  /** @internal */
  lastRxMono = 0;
  /** @internal */
  monitorSince: number;
  /** @internal */
  deadReported = false;

  /** @internal the counter row (see leg-counters.ts). */
  readonly counters: LegCounters;

  /**
   * @internal the kernel fast path (kernel-path.ts): while its flows are
   * being taken out, packets to this leg wait (are dropped) so that the
   * renumbering continues after what the kernel sent, and close() waits
   * for the kernel to stop before the ports go back to the pool.
   */
  outputHeld = false;
  /** @internal resolves when the kernel no longer forwards this leg's call; set while it may. */
  kernelRelease: (() => Promise<void>) | null = null;
  /** @internal not offered to the kernel again before this (monotonic ms). */
  kernelNotBefore = 0;

  constructor(options: MediaLegOptions) {
    super();
    this.id = options.id;
    this.label = options.label ?? null;
    this.pair = options.pair;
    this.localAddress = options.pair.address;
    this.rtpPort = options.pair.rtpPort;
    this.rtcpPort = options.pair.rtcpPort;
    this.clock = options.clock;
    this.log = options.logger;
    this.relatchAfterMs = options.relatchAfterMs;
    this.counters = options.counters ?? newLegCounters();
    this.counters.fill(0);
    this.monitorSince = this.clock.monotonic();
    this.pair.rtp.on('message', (buf, rinfo) => this.onRtpSocket(buf, rinfo));
    this.pair.rtcp.on('message', (buf, rinfo) => this.onRtcp(buf, rinfo));
  }

  get state(): LegState {
    return this.stateValue;
  }

  get peer(): MediaLeg | null {
    return this.peerLeg;
  }

  get flow(): Readonly<LegConfig['flow']> {
    return this.config.flow;
  }

  private transition(to: LegState): void {
    const from = this.stateValue;
    if (!TRANSITIONS[from].includes(to)) {
      throw new PgwError('PGW_E_STATE_TRANSITION', `media leg ${this.id}: ${from} → ${to} is not allowed`, { context: { leg: this.id, from, to } });
    }
    if (from !== to) this.log.debug({ leg: this.id, from, to }, 'media leg state');
    this.stateValue = to;
  }

  /**
   * Apply the SDP exchanged on this leg (after each offer/answer, including
   * re-INVITEs for hold and resume). A changed remote address or port
   * unlatches, so the next valid packet latches again (RFC 4961 with the
   * new address); an unchanged one keeps the latch, so a re-INVITE does not
   * open a window for a hijack.
   */
  setSdp(sdp: LegSdp): void {
    const next = legConfigFromSdp(sdp);
    const prev = this.config;
    this.transition('active');
    // A latch made before the first SDP (comedia: media can beat the answer) is kept.
    const moved = prev.remote !== null && (prev.remote.address !== next.remote?.address || prev.remote.port !== next.remote?.port);
    if (moved) {
      this.rtpLatch.reset();
      this.rtcpLatch.reset();
    }
    const flowChanged = prev.flow.toLeg !== next.flow.toLeg || prev.flow.fromLeg !== next.flow.fromLeg;
    this.config = next;
    this.transcoders = new Map();
    this.peerLeg?.clearTranscoders();
    if (flowChanged) this.restartMonitor();
    this.log.debug({ leg: this.id, remote: next.remote, flow: next.flow, codec: next.txPrimary ? codecName(next.txPrimary.id) : null }, 'media leg configured');
    // A session refresh or a re-INVITE that changes nothing for media leaves the kernel fast path alone.
    if (!sameLegConfig(prev, next)) this.emit('reconfigured');
  }

  /**
   * @internal where this leg's RTP comes from, if the leg is ready for the
   * kernel fast path on its side: sending and receiving, latched to an IPv4
   * source that sent within `freshMs`, its output stream passed through
   * unchanged (never renumbered: the kernel cannot renumber).
   */
  kernelSource(now: number, freshMs: number): { address: string; port: number } | null {
    if (this.stateValue !== 'active' || this.outputHeld || this.kernelRelease !== null || now < this.kernelNotBefore) return null;
    const f = this.config.flow;
    if (!f.toLeg || !f.fromLeg) return null;
    const address = this.rtpLatch.address;
    if (address === null || address.includes(':') || now - this.lastRxMono > freshMs) return null;
    const o = this.output;
    if (o.outSsrc === null || o.isRewriting || o.switchPending) return null;
    return { address, port: this.rtpLatch.port };
  }

  /**
   * @internal the payload types `from`'s phone may send that reach this leg
   * unchanged: the same number means a codec this leg accepted under that
   * same number (no transcoding, no renumbering of payload types; RFC 4733
   * events included when both sides agree on their number).
   */
  unchangedPayloadTypesFrom(from: MediaLeg): number[] {
    const rx = from.config.rxPt;
    const out: number[] = [];
    for (let pt = 0; pt < 128; pt++) {
      const id = rx[pt]!;
      // 72-76 would be RTCP (RFC 5761 §4): never RTP payload types.
      if (id >= 0 && (pt < 72 || pt > 76) && this.config.txPt.get(id) === pt) out.push(pt);
    }
    // Worth it only if the call's codec itself passes (not just its DTMF events).
    const primary = this.config.txPrimary;
    return primary && out.includes(primary.pt) ? out : [];
  }

  /** @internal what the kernel forwarded from this leg's phone since the last count. */
  addKernelRx(packets: number, bytes: number, now: number): void {
    const c = this.counters;
    bump(c, LC.rxPackets, packets);
    bump(c, LC.rxBytes, bytes);
    c[LC.rxLastAt] = this.clock.now();
    this.lastRxMono = now;
    this.rtpLatch.touch(now);
    if (this.deadReported) this.deadReported = false;
  }

  /** @internal what the kernel sent to this leg's phone since the last count. */
  addKernelTx(packets: number, bytes: number): void {
    bump(this.counters, LC.txPackets, packets);
    bump(this.counters, LC.txBytes, bytes);
  }

  /**
   * @internal the kernel has stopped forwarding: it took `rxPackets` from
   * this leg's phone and sent `txPackets` to it in all. The loss count goes
   * on from the sequence number those packets reached (a gap then is real
   * loss), and the stream sent to the phone continues after them.
   */
  leftKernel(rxPackets: number, txPackets: number): void {
    if (this.rxSsrc !== -1) this.rxMaxSeq = (this.rxMaxSeq + rxPackets) & 0xffff;
    this.output.advance(txPackets);
  }

  /** @internal */
  clearTranscoders(): void {
    this.transcoders = new Map();
  }

  /** @internal restart the dead-media clock (bridged, resumed, reconfigured). */
  restartMonitor(): void {
    this.monitorSince = this.clock.monotonic();
    this.deadReported = false;
  }

  private rtcpDestination(): { address: string; port: number } | null {
    if (this.rtcpLatch.address !== null) return { address: this.rtcpLatch.address, port: this.rtcpLatch.port };
    const r = this.config.remote;
    return r ? { address: r.rtcpAddress, port: r.rtcpPort } : null;
  }

  private onRtpSocket(buf: Buffer, rinfo: RemoteInfo): void {
    if (this.stateValue === 'closed') return;
    const len = buf.length;
    const kind = classifyPacket(buf, len);
    // RFC 5761: RTCP that arrives on the RTP port is still RTCP.
    if (kind === 'rtcp') return this.onRtcp(buf, rinfo);
    if (kind === 'invalid' || rtpPayloadOffset(buf, len) < 0) {
      bump(this.counters, LC.dropInvalid);
      return;
    }
    const pt = buf[1]! & 0x7f;
    const id = this.config.rxPt[pt]!;
    if (id < 0 && this.stateValue === 'active') {
      // Not a payload type of this leg: not valid media, so it neither latches nor goes through.
      bump(this.counters, LC.dropUnknownPayloadType);
      return;
    }
    const now = this.clock.monotonic();
    const latch = this.rtpLatch.accept(rinfo.address, rinfo.port, now, this.relatchAfterMs);
    if (latch === 'rejected') {
      bump(this.counters, LC.dropForeignSource);
      return;
    }
    if (latch !== 'same') this.onLatched('rtp', rinfo, latch === 'relatched');

    const c = this.counters;
    bump(c, LC.rxPackets);
    bump(c, LC.rxBytes, len);
    c[LC.rxLastAt] = this.clock.now();
    this.lastRxMono = now;
    if (this.deadReported) this.deadReported = false;
    this.trackLoss(buf);

    if (!this.config.flow.fromLeg) {
      bump(this.counters, LC.dropDirection);
      return;
    }
    const peer = this.peerLeg;
    if (peer === null || id < 0) {
      bump(this.counters, LC.dropNoRoute);
      return;
    }
    peer.sendRtp(buf, len, id, now, this);
  }

  private trackLoss(buf: Buffer): void {
    const ssrc = rtpSsrc(buf);
    const seq = rtpSequence(buf);
    if (ssrc !== this.rxSsrc) {
      this.rxSsrc = ssrc;
      this.rxMaxSeq = seq;
      return;
    }
    const d = seqDelta(seq, this.rxMaxSeq);
    if (d > 0) {
      if (d > 1 && d < MAX_DROPOUT) bump(this.counters, LC.rxLost, d - 1);
      if (d < MAX_DROPOUT) this.rxMaxSeq = seq;
      else this.rxMaxSeq = seq; // restart: resynchronise (RFC 3550 A.1)
    } else if (d < 0 && d > -MAX_DROPOUT && this.counters[LC.rxLost]! > 0) {
      // A late packet was counted lost when the gap was seen.
      bump(this.counters, LC.rxLost, -1);
    }
  }

  /** @internal forward one RTP packet from `from` to this leg. */
  sendRtp(buf: Buffer, len: number, codec: number, now: number, from: MediaLeg): void {
    if (this.stateValue !== 'active' || this.outputHeld) {
      bump(from.counters, LC.dropNoRoute);
      return;
    }
    if (!this.config.flow.toLeg) {
      bump(from.counters, LC.dropDirection);
      return;
    }
    // Destination without building an object per packet: the latched source, else the SDP address.
    let address = this.rtpLatch.address;
    let port = this.rtpLatch.port;
    if (address === null) {
      const r = this.config.remote;
      if (r === null) {
        bump(from.counters, LC.dropNoRoute);
        return;
      }
      address = r.address;
      port = r.port;
    }
    let pt = this.config.txPt.get(codec);
    if (pt === undefined) {
      // Not a codec this leg accepted: transcode into its primary codec, if both are ones we can.
      const t = this.transcoderFrom(codec);
      const primary = this.config.txPrimary;
      if (!t || !primary) {
        bump(from.counters, LC.dropCodec);
        return;
      }
      const off = rtpPayloadOffset(buf, len);
      const padding = buf[0]! & 0x20 ? buf[len - 1]! : 0;
      t.transcode(buf, off, len - off - padding);
      pt = primary.pt;
      bump(this.counters, LC.txTranscoded);
    }
    if (pt !== (buf[1]! & 0x7f)) setRtpPayloadType(buf, pt);
    this.output.rewrite(buf, now);
    this.pair.rtp.send(buf, 0, len, port, address);
    bump(this.counters, LC.txPackets);
    bump(this.counters, LC.txBytes, len);
  }

  private transcoderFrom(codec: number): PayloadTranscoder | null {
    let t = this.transcoders.get(codec);
    if (t === undefined) {
      const from = transcodableCodec(codec);
      const primary = this.config.txPrimary;
      const to = primary ? transcodableCodec(primary.id) : null;
      t = from && to ? createTranscoder(from, to) : null;
      this.transcoders.set(codec, t);
      if (t) this.log.info({ leg: this.id, from, to }, 'transcoding toward leg');
    }
    return t;
  }

  private onRtcp(buf: Buffer, rinfo: RemoteInfo): void {
    if (this.stateValue === 'closed') return;
    const len = buf.length;
    if (!isValidRtcpCompound(buf, len)) {
      bump(this.counters, LC.dropInvalid);
      return;
    }
    const now = this.clock.monotonic();
    const latch = this.rtcpLatch.accept(rinfo.address, rinfo.port, now, this.relatchAfterMs);
    if (latch === 'rejected') {
      bump(this.counters, LC.dropForeignSource);
      return;
    }
    if (latch !== 'same') this.onLatched('rtcp', rinfo, latch === 'relatched');
    bump(this.counters, LC.rxRtcp);
    const peer = this.peerLeg;
    if (peer === null) {
      bump(this.counters, LC.dropNoRoute);
      return;
    }
    peer.sendRtcp(buf, len, this);
  }

  /** @internal forward an RTCP compound from `from` to this leg, renumbered like the RTP. */
  sendRtcp(buf: Buffer, len: number, from: MediaLeg): void {
    if (this.stateValue !== 'active') return;
    const dest = this.rtcpDestination();
    if (dest === null) {
      bump(from.counters, LC.dropNoRoute);
      return;
    }
    // Sender info describes from's media, which this leg receives renumbered by this.output;
    // report blocks describe what `from` received, renumbered by from.output.
    const toHere = this.output;
    const toThere = from.output;
    if (toHere.isRewriting || toThere.isRewriting) {
      const rw: RtcpRewrite = {
        sender: toHere.isRewriting ? { from: toHere.srcSsrc, to: toHere.outSsrc!, tsOffset: toHere.tsOffset } : null,
        reported: toThere.isRewriting ? { from: toThere.outSsrc!, to: toThere.srcSsrc, seqOffset: toThere.seqOffset } : null,
      };
      rewriteRtcpSsrcs(buf, len, rw);
    }
    this.pair.rtcp.send(buf, 0, len, dest.port, dest.address);
    bump(this.counters, LC.txRtcp);
  }

  private onLatched(kind: 'rtp' | 'rtcp', rinfo: RemoteInfo, relatch: boolean): void {
    const remote = this.config.remote;
    const expected = kind === 'rtp' ? remote?.port : remote?.rtcpPort;
    const viaNat = remote !== null && (rinfo.address !== (kind === 'rtp' ? remote.address : remote.rtcpAddress) || rinfo.port !== expected);
    this.log.info({ leg: this.id, kind, address: rinfo.address, port: rinfo.port, relatch, viaNat }, relatch ? 'media source moved; relatched' : 'media latched');
    this.emit('latched', { leg: this, kind, address: rinfo.address, port: rinfo.port, relatch });
  }

  stats(): LegStats {
    return {
      id: this.id,
      label: this.label,
      state: this.stateValue,
      localAddress: this.localAddress,
      rtpPort: this.rtpPort,
      rtcpPort: this.rtcpPort,
      ...describeLegConfig(this.config),
      latched: this.rtpLatch.address !== null ? { address: this.rtpLatch.address, port: this.rtpLatch.port } : null,
      peer: this.peerLeg?.id ?? null,
      ...readLegCounters(this.counters),
      dead: this.deadReported,
    };
  }

  /**
   * Unbridge, close the sockets and give the ports back. Idempotent. The
   * other leg stays open (the B2BUA may bridge it elsewhere).
   */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.transition('closed');
    const peer = this.peerLeg;
    if (peer) {
      peer.peerLeg = null;
      this.peerLeg = null;
    }
    this.transcoders = new Map();
    // The kernel may still be sending from these ports: they go back to the pool only once it stopped.
    if (this.kernelRelease) await this.kernelRelease();
    await this.pair.close();
    this.emit('closed', this);
  }
}
