/**
 * The transport and transaction layers started together: what gateway.ts
 * (and integration tests) need to get a working SIP stack in one call.
 */
import { createTransportLayer } from '../transport/transport-layer.js';
import type { SipTransportLayer, TransportLayerOptions } from '../transport/transport-layer.js';
import { createTransactionLayer } from './transaction-layer.js';
import type { SipTransactionLayer } from './transaction-layer.js';
import type { TimerBase } from './timers.js';

export interface SipStackOptions extends TransportLayerOptions {
  timers?: Partial<TimerBase>;
  /** See TransactionLayerOptions.maxCompletedNonInvite. */
  maxCompletedNonInvite?: number;
}

export interface SipStack {
  transport: SipTransportLayer;
  transactions: SipTransactionLayer;
  /** Stop transactions, then close sockets. */
  close(): Promise<void>;
}

export async function startSipStack(options: SipStackOptions): Promise<SipStack> {
  const { timers, maxCompletedNonInvite, ...transportOptions } = options;
  const transport = await createTransportLayer(transportOptions);
  const transactions = createTransactionLayer({
    transport,
    clock: options.clock,
    logger: options.logger,
    ...(timers ? { timers } : {}),
    ...(maxCompletedNonInvite === undefined ? {} : { maxCompletedNonInvite }),
  });
  return {
    transport,
    transactions,
    close: async () => {
      transactions.close();
      await transport.close();
    },
  };
}
