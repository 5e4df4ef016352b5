/**
 * The PBX's port to the outside world: how a call leaves the building and
 * how one arriving from outside is recognised. The PBX owns this interface;
 * the uplinks layer (cloud SBC over HSCN, backup trunks) implements it and
 * gateway.ts wires the two together, so pbx/ never imports uplinks/ and
 * uplinks/ sees nothing of the PBX beyond this file (ARCHITECTURE.md:
 * dependencies point down, callbacks up are interfaces).
 */
import type { SipRequest } from '../sip/message/types.js';
import type { Endpoint } from '../sip/transport/api.js';
import type { CallTarget } from './b2bua-call.js';

export interface ExternalCaller {
  /** The extension number. */
  number: string;
  name: string | null;
  /** A DID of the practice this extension presents instead of the main number. */
  outboundCallerId?: string;
}

export interface OutboundCall {
  /** emergency: 999/112 (Ofcom GC A3), routed whatever else is broken or barred. */
  kind: 'external' | 'emergency';
  /**
   * external: as dialled on the phone (an outside-line prefix included);
   * emergency: the bare emergency number (the dial plan has already made 9-999 into 999).
   */
  dialled: string;
  caller: ExternalCaller;
}

/**
 * One INVITE toward one uplink; the PBX tries the targets of a call one after
 * the other. It is a call target (b2bua-call.ts: uri, destination, identity,
 * credentials, TLS name, no-progress bound) named by its uplink, with how long
 * the far end may ring before the call gives up or moves to the next target.
 */
export type UplinkTarget = Omit<CallTarget, 'member'> & {
  /** The uplink's name (`cloud` or a trunk's name), for logs, status and call records. */
  uplink: string;
  ringSeconds: number;
};

export interface InboundCaller {
  /** E.164 when the uplink gave a public number, else as delivered. */
  number: string;
  name: string | null;
}

export type InboundDecision =
  /** Ring `destination` (an extension or hunt group number) for this caller. */
  | { kind: 'route'; uplink: string; destination: string; called: string; caller: InboundCaller }
  /** The uplink asked for something the practice does not have (a DID it does not own). */
  | { kind: 'reject'; uplink: string; status: number; reason: string; called: string };

export interface ExternalRoutes {
  /** False when no uplink is configured: numbers that look external are then unknown (404). */
  hasUplinks(): boolean;
  /**
   * The targets to try, in order, for a call leaving the building; empty
   * when no uplink can carry it now (the PBX answers 503).
   */
  outbound(call: OutboundCall): UplinkTarget[];
  /**
   * Whether an INVITE outside any dialog came from an uplink peer (trusted by
   * its source address, no digest) and where it goes; null when it did not
   * (a phone: the PBX authenticates it as usual).
   */
  inbound(request: SipRequest, source: Endpoint): InboundDecision | null;
}
