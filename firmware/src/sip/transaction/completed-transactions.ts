/**
 * Completed transactions in compact form: what the layer keeps of a
 * transaction that has sent or received its final response and now only
 * waits for a timer, RFC 3261 §17 with RFC 6026.
 *
 * In these states a transaction reacts to exactly one thing, a retransmission
 * from the peer, and needs only its matching keys and (for two of them) one
 * message to send again. The parsed request, the response objects, the TU's
 * handlers, the state machine and the timers are no longer needed, and under
 * a REGISTER storm (every REGISTER kept 32 s for Timer J) they were nearly all
 * of the gateway's memory. So when a transaction gets here, the layer's maps
 * swap it for one of these records, and an ExpiryQueue per timer ends them:
 *
 *   server, non-INVITE, Completed (Timer J, §17.2.2): a request retransmission
 *       gets the final response again: `final` holds it, frozen, and `resendTo()`
 *       says where it went
 *   server, INVITE, Confirmed (Timer I, §17.2.1): ACKs and INVITEs are absorbed
 *   server, INVITE, Accepted (Timer L, RFC 6026 §7.1): INVITEs are absorbed,
 *       ACKs go to the TU (the TU's own 2xx retransmissions go through the
 *       ServerTransaction object it holds, which still works)
 *   client, non-INVITE, Completed (Timer K, §17.1.2.2): responses are absorbed
 *   client, INVITE, Completed (Timer D, §17.1.1.2): a retransmitted 300-699
 *       gets the ACK again: `ack` holds it, frozen
 *
 * INVITE server Completed (Timers G and H resend the final and tell the TU of
 * a missing ACK) and INVITE client Accepted (every 2xx goes to the TU's
 * handlers) still need the whole transaction and stay as they are; they are
 * the rarer ones (a lost ACK; an INVITE we sent).
 *
 * Strings kept here are fresh copies (matching.ts builds keys with join,
 * detach() copies tags and addresses): a V8 slice of the request text would
 * keep the whole text alive.
 */
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Endpoint, SendOptions } from '../transport/api.js';

export type CompletedServerState = 'Completed' | 'Confirmed' | 'Accepted';

/**
 * Where the final response of a non-INVITE record goes again. Only UDP:
 * Timer J is 0 on reliable transports, so they have no record. The fields sit
 * flat in the record (no Endpoint or options objects of its own: tens of
 * thousands of records, every object counts).
 */
export interface UdpResendTarget {
  address: string;
  port: number;
  /** The local endpoint the request came in on (RFC 3581 §4: answer from there). */
  local: Endpoint | undefined;
}

export class CompletedServerTx {
  /** §17.2.3 key (the serverTxs map). */
  readonly key: string;
  /** CANCEL / RFC 2543 ACK target key, when indexed there. */
  readonly target: string | undefined;
  /** §8.2.2.2 merge key, when indexed there: a merged request is still detected while this lasts. */
  readonly merge: string | undefined;
  readonly method: 'INVITE' | 'other';
  readonly state: CompletedServerState;
  /** The To tag of the final response (a CANCEL's 200 reuses it, §9.2; RFC 2543 ACK matching). */
  readonly toTag: string | undefined;
  /** Non-INVITE Completed (always on UDP): the final response, frozen. */
  readonly final: SipResponse | undefined;
  private readonly address: string | undefined;
  private readonly port: number | undefined;
  private readonly local: Endpoint | undefined;

  constructor(init: {
    key: string;
    target: string | undefined;
    merge: string | undefined;
    method: 'INVITE' | 'other';
    state: CompletedServerState;
    toTag: string | undefined;
    final?: { message: SipResponse; to: UdpResendTarget };
  }) {
    this.key = init.key;
    this.target = init.target;
    this.merge = init.merge;
    this.method = init.method;
    this.state = init.state;
    this.toTag = init.toTag;
    this.final = init.final?.message;
    this.address = init.final?.to.address;
    this.port = init.final?.to.port;
    this.local = init.final?.to.local;
  }

  /** A final response has been sent: always, by construction. */
  get finalSent(): true {
    return true;
  }

  /** Where `final` is sent again, or undefined when nothing is (INVITE records). */
  resendTo(): { destination: Endpoint; options: SendOptions } | undefined {
    if (this.final === undefined || this.address === undefined || this.port === undefined) return undefined;
    return {
      destination: { protocol: 'udp', address: this.address, port: this.port },
      options: this.local ? { local: this.local } : {},
    };
  }
}

export class CompletedClientTx {
  constructor(
    /** §17.1.3 key (the clientTxs map). */
    readonly id: string,
    /** INVITE Completed: the ACK for the non-2xx final, and where it goes. */
    readonly ack: { message: SipRequest; destination: Endpoint; options: SendOptions } | undefined,
  ) {}
}
