/**
 * What the PBX sees of the media anchor, whichever thread forwards the
 * packets: MediaRelay runs legs on the calling thread (tests, small boxes,
 * `media.workers: 0`); ThreadedMediaRelay runs them in media worker threads
 * and hands out proxies. Both give the same legs, events and counters.
 */
import type { LegSdp, LegFlow } from './leg-config.js';
import type { LegStats } from './leg-stats.js';

export type LegState = 'idle' | 'active' | 'closed';

/** One call leg's media on the gateway: a socket pair on the address facing that leg. */
export interface RelayLeg {
  readonly id: string;
  readonly label: string | null;
  readonly localAddress: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly state: LegState;
  /** The leg this one is bridged to. */
  readonly peer: RelayLeg | null;
  readonly flow: Readonly<LegFlow>;
  /** Apply the SDP exchanged on this leg (after each offer/answer). */
  setSdp(sdp: LegSdp): void;
  stats(): LegStats;
  /** Unbridge, close the sockets, give the ports back. Idempotent. */
  close(): Promise<void>;
}

export interface DeadMediaEvent {
  leg: RelayLeg;
  /** How long no RTP came from the leg, in ms (0: the thread relaying it failed). */
  silentMs: number;
}

export interface LatchEvent {
  leg: RelayLeg;
  kind: 'rtp' | 'rtcp';
  address: string;
  port: number;
  relatch: boolean;
}

export interface MediaRelayEvents {
  dead: [DeadMediaEvent];
  latched: [LatchEvent];
}

export interface OpenLegOptions {
  /** The gateway's address on the interface that faces this leg's party. */
  localAddress: string;
  /** For logs and the admin API, e.g. the call id and which side. */
  label?: string;
  /**
   * Legs that will be bridged to each other share a key (the call), so a
   * threaded relay opens them on the same worker: a bridge never crosses
   * threads.
   */
  affinity?: string;
}

export interface MediaAnchor {
  readonly deadAfterMs: number;
  readonly legCount: number;
  /** Allocate a socket pair for one leg. Throws PGW_E_MEDIA_PORTS when no pair can be bound. */
  openLeg(options: OpenLegOptions): Promise<RelayLeg>;
  /** Connect two legs (opened by this anchor, with the same affinity): what one sends goes to the other. */
  bridge(a: RelayLeg, b: RelayLeg): void;
  unbridge(leg: RelayLeg): void;
  /** Every open leg's counters (each read as it is; a packet being forwarded may show on one leg only). */
  stats(): LegStats[];
  /**
   * Every open leg's counters as they stood at one instant of the thread that
   * forwards them, between two packets: what went in one leg and out of the
   * other agree exactly (the admin API's view of calls).
   */
  snapshot(): Promise<Map<RelayLeg, LegStats>>;
  /** Close every leg (shutdown). */
  close(): Promise<void>;
  on<K extends keyof MediaRelayEvents>(event: K, listener: (...args: MediaRelayEvents[K]) => void): this;
}
