/**
 * What the local admin API shows, and the interface the gateway implements
 * to supply it (gateway.ts wires a PBX/uplinks-backed provider in). The
 * provider returns JSON-ready views: what it returns is what is served,
 * so these types are the HTTP contract (docs/CONTRACT.md, "Local HTTP API").
 */
import type { Practice } from '../config/practice-schema.js';

/** CONTRACT.md: normal while the cloud uplink carries calls, survivability while it does not. */
export type GatewayMode = 'normal' | 'survivability';

/**
 * up: healthy and carrying new calls; standby: healthy, registered where it
 * must be, not carrying new calls; registering; down.
 */
export type UplinkState = 'up' | 'standby' | 'registering' | 'down';

export interface UplinkStatus {
  /** `cloud` for the cloud uplink, else the trunk's name. */
  name: string;
  state: UplinkState;
}

export interface GatewayStatus {
  mode: GatewayMode;
  /** Version of the practice config running; null before one has been applied. */
  configVersion: number | null;
  uplinks: UplinkStatus[];
  /** The phones' registrations (contacts), not the gateway's own toward trunks. */
  registrations: number;
  /** Calls, not legs. */
  activeCalls: number;
  firmware: { version: string; slot: string };
  /** Extras beyond the contract's minimum. */
  deviceId?: string;
  uptimeSeconds?: number;
  /**
   * How media is forwarded: media worker threads (0: the main thread), whether
   * the kernel fast path is installed, and how many call legs it forwards now.
   */
  media?: { workers: number; kernelForwarding: boolean; kernelLegs: number };
}

export type SipTransportName = 'udp' | 'tcp' | 'tls';

/** One contact of one extension, as the registrar holds it. */
export interface RegistrationView {
  extension: string;
  /** The Contact URI as the phone registered it. */
  contact: string;
  /** Where the REGISTER came from (host:port), which is where requests are sent (NAT latching). */
  source: string;
  transport: SipTransportName;
  /** Seconds until it expires. */
  expiresIn: number;
  /** The phone's User-Agent header; null when it sent none. */
  userAgent: string | null;
}

export interface PartyView {
  /** Extension number, E.164 or dialled digits. */
  number: string;
  name: string | null;
}

export type CallState = 'setup' | 'ringing' | 'answered' | 'ending';

/** RTP counters of one leg's media on the gateway. */
export interface MediaCounters {
  codec: string | null;
  /** The gateway's RTP address for this leg (host:port). */
  local: string;
  /** The peer's latched RTP address (host:port); null before any packet. */
  remote: string | null;
  /**
   * Where the peer's SDP asks for media (host:port); null before its SDP, or on hold with
   * c=0.0.0.0. Differs from `remote` when a NAT rewrites the phone's address (issue 2).
   */
  sdpRemote?: string | null;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  packetsLost?: number;
  /**
   * Who forwards this leg's RTP now: `user` (the relay) or `kernel` (the
   * nftables fast path for steady pass-through calls between LAN phones).
   */
  forwarding?: 'user' | 'kernel';
}

export interface LegView {
  id: string;
  role: 'caller' | 'callee';
  /** Extension number, or the uplink name for external legs. */
  peer: string;
  /** The leg's dialog / session state, as the call controller names it. */
  state: string;
  media: MediaCounters | null;
}

export interface CallView {
  id: string;
  from: PartyView;
  to: PartyView;
  state: CallState;
  /** ISO 8601. */
  startTime: string;
  answerTime: string | null;
  legs: LegView[];
}

export interface AppliedConfigView {
  version: number;
  appliedAt: string | null;
  /** The server redacts it before serving; providers may pass it with secrets. */
  practice: Practice;
}

type MaybePromise<T> = T | Promise<T>;

/** Implemented by the gateway; every method may be sync or async. */
export interface StatusProvider {
  status(): MaybePromise<GatewayStatus>;
  registrations(): MaybePromise<RegistrationView[]>;
  calls(): MaybePromise<CallView[]>;
  /** The running practice config; `GET /api/v1/config` is 404 when absent. */
  appliedConfig?(): MaybePromise<AppliedConfigView | null>;
  /** The box's hardware (board, health, alarms, modem, watchdog, panel); `GET /api/v1/hardware` is 404 when absent. */
  hardware?(): MaybePromise<object | null>;
  /** PoE ports and the phone on each; `GET /api/v1/ports` is 404 when the box has no PoE controller. */
  ports?(): MaybePromise<object[] | null>;
}
