/**
 * The media anchor: every call's RTP goes through the gateway, leg to leg.
 *
 *   phone A ◄──RTP──► [leg A socket pair] ══ bridge ══ [leg B socket pair] ◄──RTP──► phone B
 *                     (address facing A)               (address facing B)
 *
 * The PBX opens one leg per call leg (on the address facing that party),
 * gives each leg the SDP exchanged on it, and bridges two legs. Bridging a
 * leg to a different leg later (transfer, hunt-group answer) keeps the
 * stream each phone receives continuous (see StreamRenumberer).
 *
 * Dead media: a bridged leg whose call is not on hold and that sent no RTP
 * for `deadAfterMs` raises `dead` once (on the leg and on the relay); the
 * PBX hangs the call up and logs it. One sweep timer on the injected clock
 * serves all legs.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { RtpPortPool } from '../rtp/port-pool.js';
import { MediaLeg } from './media-leg.js';
import type { DeadMediaEvent, MediaAnchor, MediaRelayEvents, OpenLegOptions, RelayLeg } from './relay-api.js';
import type { LegStats } from './leg-stats.js';
import type { LegCounters } from './leg-counters.js';
import type { KernelOffload } from '../offload/kernel-offload.js';
import { KernelPath } from './kernel-path.js';

export interface MediaRelayOptions {
  clock: Clock;
  logger: Logger;
  pool: RtpPortPool;
  /** No RTP from a bridged, not-held leg for this long → `dead` (default 30 s). */
  deadAfterMs?: number;
  /** How often to look for dead legs (default 1 s, and never more than deadAfterMs / 2). */
  deadCheckIntervalMs?: number;
  /** A latched source silent this long may be replaced by another (default 2 s). */
  relatchAfterMs?: number;
  /** The kernel fast path for steady pass-through calls (kernel-path.ts); absent: every packet in user space. */
  offload?: KernelOffload | null;
}

export interface MediaBridge {
  readonly a: MediaLeg;
  readonly b: MediaLeg;
  /** Close both legs. */
  close(): Promise<void>;
}

export const DEFAULT_DEAD_AFTER_MS = 30_000;
export const DEFAULT_RELATCH_AFTER_MS = 2_000;

export class MediaRelay extends EventEmitter<MediaRelayEvents> implements MediaAnchor {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly pool: RtpPortPool;
  readonly deadAfterMs: number;
  private readonly checkEveryMs: number;
  private readonly relatchAfterMs: number;
  private readonly legSet = new Set<MediaLeg>();
  private sweepTimer: TimerHandle | null = null;
  private nextId = 1;
  private readonly kernel: KernelPath | null;

  constructor(options: MediaRelayOptions) {
    super();
    this.clock = options.clock;
    this.log = options.logger.child({ component: 'media' });
    this.pool = options.pool;
    this.deadAfterMs = options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    this.checkEveryMs = Math.max(10, Math.min(options.deadCheckIntervalMs ?? 1000, Math.floor(this.deadAfterMs / 2)));
    this.relatchAfterMs = options.relatchAfterMs ?? DEFAULT_RELATCH_AFTER_MS;
    this.kernel = options.offload ? new KernelPath({ offload: options.offload, clock: this.clock, logger: this.log }) : null;
  }

  /** Allocate a socket pair on localAddress for one leg. Throws PGW_E_MEDIA_PORTS when the pool is exhausted. */
  async openLeg(options: OpenLegOptions & { counters?: LegCounters }): Promise<MediaLeg> {
    const pair = await this.pool.allocate({ address: options.localAddress });
    const leg = new MediaLeg({
      id: `m${this.nextId++}`,
      label: options.label,
      pair,
      clock: this.clock,
      logger: this.log,
      relatchAfterMs: this.relatchAfterMs,
      counters: options.counters,
    });
    this.legSet.add(leg);
    leg.on('latched', (e) => {
      // The phone's source moved: the kernel's entry is for the old one.
      if (e.relatch && e.kind === 'rtp') void leg.kernelRelease?.();
      this.emit('latched', e);
    });
    // New SDP (hold, resume, another codec or address): back to user space, which applies it.
    leg.on('reconfigured', () => void leg.kernelRelease?.());
    leg.once('closed', () => {
      this.legSet.delete(leg);
      if (this.legSet.size === 0) this.stopSweep();
    });
    this.startSweep();
    this.log.debug({ leg: leg.id, label: leg.label, address: pair.address, rtpPort: pair.rtpPort }, 'media leg opened');
    return leg;
  }

  /**
   * Connect two legs: what one sends goes to the other. A leg that was
   * bridged elsewhere is taken from its old partner first (which is left
   * unbridged, not closed). The stream each leg receives stays one stream.
   */
  bridge(legA: RelayLeg, legB: RelayLeg): void {
    if (legA === legB) throw new RangeError('cannot bridge a leg to itself');
    const a = this.own(legA);
    const b = this.own(legB);
    if (a.peerLeg === b) return;
    // Unbridging takes each leg's old pair out of the kernel first (its output held until the
    // kernel stopped, then renumbered after it); only a bridged pair is ever in the kernel.
    this.unbridge(a);
    this.unbridge(b);
    a.peerLeg = b;
    b.peerLeg = a;
    for (const leg of [a, b]) {
      leg.output.sourceChanged();
      leg.clearTranscoders();
      leg.restartMonitor();
    }
    this.log.info({ a: a.id, b: b.id, aLabel: a.label, bLabel: b.label }, 'media bridged');
  }

  private own(leg: RelayLeg): MediaLeg {
    if (!(leg instanceof MediaLeg) || leg.state === 'closed' || !this.legSet.has(leg)) throw new RangeError(`media leg ${leg.id} is closed or not ours`);
    return leg;
  }

  /** Disconnect a leg from its partner (both stay open). */
  unbridge(relayLeg: RelayLeg): void {
    if (!(relayLeg instanceof MediaLeg)) return;
    const leg = relayLeg;
    const peer = leg.peerLeg;
    if (!peer) return;
    void leg.kernelRelease?.();
    peer.peerLeg = null;
    leg.peerLeg = null;
    this.log.debug({ a: leg.id, b: peer.id }, 'media unbridged');
  }

  /** Open two legs and bridge them: the usual shape of a two-party call. */
  async createBridge(options: { a: OpenLegOptions; b: OpenLegOptions }): Promise<MediaBridge> {
    const a = await this.openLeg(options.a);
    let b: MediaLeg;
    try {
      b = await this.openLeg(options.b);
    } catch (e) {
      await a.close();
      throw e;
    }
    this.bridge(a, b);
    return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
  }

  /** Every open leg's counters. */
  stats(): LegStats[] {
    return [...this.legSet].map((l) => l.stats());
  }

  /** In-process, every read is between two packets: stats() already agree. */
  snapshot(): Promise<Map<RelayLeg, LegStats>> {
    return Promise.resolve(new Map([...this.legSet].map((l) => [l, l.stats()])));
  }

  get legCount(): number {
    return this.legSet.size;
  }

  /** Close every leg (shutdown). */
  async close(): Promise<void> {
    this.stopSweep();
    await Promise.all([...this.legSet].map((l) => l.close()));
    await this.kernel?.leaveAll();
  }

  private startSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = this.clock.setTimer(this.checkEveryMs, () => {
      this.sweepTimer = null;
      this.sweep();
      if (this.legSet.size > 0) this.startSweep();
    });
  }

  private stopSweep(): void {
    this.sweepTimer?.cancel();
    this.sweepTimer = null;
  }

  /**
   * A leg is watched while it is bridged and media should flow both ways on
   * its call: neither leg on hold or inactive (RFC 3264 §8.4 hold means no
   * media is due, so silence then is not death).
   */
  private sweep(): void {
    this.kernel?.tick(this.legSet);
    const now = this.clock.monotonic();
    for (const leg of this.legSet) {
      const peer = leg.peerLeg;
      if (leg.deadReported || leg.state !== 'active' || !peer || peer.state !== 'active') continue;
      const f = leg.flow;
      const p = peer.flow;
      if (!(f.fromLeg && f.toLeg && p.fromLeg && p.toLeg)) continue;
      const silentMs = now - Math.max(leg.lastRxMono, leg.monitorSince);
      if (silentMs < this.deadAfterMs) continue;
      leg.deadReported = true;
      const s = leg.stats();
      this.log.warn({ leg: leg.id, label: leg.label, peer: peer.id, silentMs, rx: s.rx.packets, latched: s.latched, remote: s.remote }, 'dead media: no RTP from leg');
      const event: DeadMediaEvent = { leg, silentMs };
      leg.emit('dead', event);
      this.emit('dead', event);
    }
  }
}
