/**
 * The transaction layer's face to the transaction user (dialogs, UA, registrar),
 * RFC 3261 §17 with the RFC 6026 corrections.
 *
 * The TU hands a request to sendRequest() and gets every response through the
 * handlers until the transaction terminates; requests arrive through the TU's
 * onRequest() with a server transaction to answer on. ACK for a 2xx has no
 * transaction (RFC 3261 §17.1.1.1) and arrives with tx === null, as do stray
 * 2xx retransmissions (onStrayResponse), which the UA layer absorbs.
 */
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Endpoint, InboundMessage } from '../transport/api.js';

export interface ClientTransactionHandlers {
  /** Every provisional and final response, in order; 2xx to INVITE may come more than once. */
  onResponse(response: SipResponse): void;
  /** Timer B or F fired (treated by the TU like a 408). */
  onTimeout(): void;
  /** The transport could not send (treated by the TU like a 503, RFC 3261 §8.1.3.1). */
  onTransportError(error: Error): void;
}

export interface ClientTransaction {
  readonly id: string;
  readonly request: SipRequest;
  readonly destination: Endpoint;
  /** Reads Terminated once Timer K or D has passed (the layer then keeps only a compact record). */
  readonly state: string;
}

export interface ServerTransaction {
  readonly id: string;
  /**
   * The request, as long as the TU holds this object: once the transaction
   * has completed, the layer keeps only a compact record of it
   * (completed-transactions.ts), so a TU that lets go of it frees the request.
   */
  readonly request: SipRequest;
  readonly inbound: InboundMessage;
  /** Reads Terminated once Timer J, I or L has passed, whoever still holds the object. */
  readonly state: string;
  /** Send a response; the transaction retransmits it as its state machine says. */
  respond(response: SipResponse): void;
  /** True once a CANCEL matched this INVITE server transaction. */
  readonly cancelled: boolean;
}

export interface TransactionUser {
  /** A new request (not a retransmission). tx is null for ACK. */
  onRequest(request: SipRequest, tx: ServerTransaction | null, inbound: InboundMessage): void;
  /** A CANCEL matched an INVITE server transaction; the layer has already answered the CANCEL 200. */
  onCancel?(inviteTx: ServerTransaction, cancel: SipRequest): void;
  /** A response matching no client transaction (2xx retransmissions to INVITE). */
  onStrayResponse?(response: SipResponse, inbound: InboundMessage): void;
  /** A response of this server transaction could not be sent; the transaction has terminated (§17.2.4). */
  onTransportError?(tx: ServerTransaction, error: Error): void;
  /** Timer H fired: no ACK came for the non-2xx final response of this INVITE server transaction (§17.2.1). */
  onAckTimeout?(tx: ServerTransaction): void;
}

export interface SendRequestOptions {
  destination: Endpoint;
  handlers: ClientTransactionHandlers;
  /** TLS: the name the server certificate must match (SNI). Default: the destination address. */
  tlsServerName?: string;
}

export interface TransactionLayer {
  /**
   * Start a client transaction. The caller has built the request; the layer
   * fills in the top Via's sent-by (from the transport's localFor) and a
   * branch (z9hG4bK…) when the top Via has none.
   *
   * Precisely: with no Via at all, the layer adds
   * `SIP/2.0/<PROTO> <localFor(destination)>;branch=z9hG4bK…;rport`; a top Via
   * that is there is kept, with a branch added if it lacks one. When the
   * transport's §18.1.1 size rule moves a UDP request to TCP, the top Via's
   * transport and port are rewritten to match (and back again if TCP is
   * refused). The request object is updated in place, so a CANCEL can copy
   * the INVITE's final top Via (§9.1). Throws PGW_E_SIP_STATE for ACK (sent
   * by the INVITE transaction or with sendStateless) and for a branch+method
   * already in use.
   */
  sendRequest(request: SipRequest, options: SendRequestOptions): ClientTransaction;
  /** Send a request statelessly (ACK for 2xx, RFC 3261 §13.2.2.4). A missing Via is added as in sendRequest. */
  sendStateless(request: SipRequest, destination: Endpoint, options?: { tlsServerName?: string }): Promise<void>;
  /** Send a response outside a transaction (2xx retransmission by the UA core, §13.3.1.4). */
  sendResponseStateless(response: SipResponse, inbound: InboundMessage): Promise<void>;
  setUser(user: TransactionUser): void;
  /** Live transactions, for tests and diagnostics. */
  count(): { client: number; server: number };
  close(): void;
}
