/** The SIP transaction layer (RFC 3261 §17, RFC 6026): public surface. */
export type {
  ClientTransaction,
  ClientTransactionHandlers,
  SendRequestOptions,
  ServerTransaction,
  TransactionLayer,
  TransactionUser,
} from './api.js';
export { DEFAULT_MAX_COMPLETED_NON_INVITE, SipTransactionLayer, createTransactionLayer } from './transaction-layer.js';
export type { TransactionLayerOptions } from './transaction-layer.js';
export { startSipStack } from './sip-stack.js';
export type { SipStack, SipStackOptions } from './sip-stack.js';
export * from './timers.js';
export { INVITE_CLIENT_TRANSITIONS } from './invite-client-transaction.js';
export type { InviteClientState } from './invite-client-transaction.js';
export { NON_INVITE_CLIENT_TRANSITIONS } from './non-invite-client-transaction.js';
export type { NonInviteClientState } from './non-invite-client-transaction.js';
export { INVITE_SERVER_TRANSITIONS } from './invite-server-transaction.js';
export type { InviteServerState } from './invite-server-transaction.js';
export { NON_INVITE_SERVER_TRANSITIONS } from './non-invite-server-transaction.js';
export type { NonInviteServerState } from './non-invite-server-transaction.js';
