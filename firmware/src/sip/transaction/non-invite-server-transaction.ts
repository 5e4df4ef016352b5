/**
 * Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8).
 *
 *                        |Request received
 *                        |pass to TU
 *                        V
 *                  +-----------+
 *                  |           |  request retransmission: absorbed
 *                  | Trying    |-------------+
 *                  |           |             |
 *                  +-----------+             |200-699 from TU
 *                        |                   |send response
 *                        |1xx from TU        |
 *                        |send response      |
 *                        V                   |
 *    Request     +-----------+               |
 *    send last   |           |  1xx from TU: send
 *    provisional | Proceeding|               |
 *       +--------|           |               |
 *       +------->+-----------+               |
 *                        |200-699 from TU    |
 *                        |send response      |
 *                        V                   V
 *    Request     +-----------+
 *    send final  |           |  further TU responses: refused
 *       +--------| Completed |  (kept by the layer as a compact
 *       +------->+-----------+   record: completed-transactions.ts)
 *                        |Timer J (0 on TCP/TLS)
 *                        V                 transport error (any state)
 *                  +-----------+
 *                  | Terminated|
 *                  +-----------+
 */
import type { SipRequest, SipResponse } from '../message/types.js';
import type { InboundMessage } from '../transport/api.js';
import { ServerTransactionBase } from './server-transaction.js';
import type { ServerTxEnv, ServerTxInit } from './server-transaction.js';
import type { TransitionTable } from '../../util/state-machine.js';

export type NonInviteServerState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

export const NON_INVITE_SERVER_TRANSITIONS: TransitionTable<NonInviteServerState> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

export class NonInviteServerTransaction extends ServerTransactionBase<NonInviteServerState> {
  protected readonly terminatedState = 'Terminated' as const;

  constructor(env: ServerTxEnv, init: ServerTxInit) {
    super(env, init, 'non-INVITE server', 'Trying', NON_INVITE_SERVER_TRANSITIONS);
  }

  respond(response: SipResponse): void {
    const state = this.state;
    if (state !== 'Trying' && state !== 'Proceeding') this.illegal(response);
    if (response.status < 200) {
      if (state === 'Trying') this.fsm.transition('Proceeding');
      this.lastProvisional = response;
      this.send(response);
      return;
    }
    this.lastFinal = response;
    this.fsm.transition('Completed');
    this.sendFinal(response);
    // A response with nowhere to go has already ended the transaction.
    if (this.fsm.state !== 'Completed') return;
    if (this.t.J === 0) this.terminate();
    // §17.2.2: until Timer J, every retransmission of the request gets this
    // response again; the layer's record does that from here on.
    else this.retire('J', 'Completed', response);
  }

  /** Before the final response; after it, the layer's record answers retransmissions. */
  retransmission(): void {
    const state = this.fsm.state;
    switch (state) {
      case 'Trying':
      case 'Terminated':
        return;
      case 'Proceeding':
        if (this.lastProvisional) this.send(this.lastProvisional);
        return;
      case 'Completed':
        if (this.lastFinal) this.send(this.lastFinal);
        return;
      default: {
        const never: never = state;
        throw new Error(`unknown state ${String(never)}`);
      }
    }
  }

  ack(_request: SipRequest, _inbound: InboundMessage): void {
    // An ACK never matches a non-INVITE transaction (§17.2.3 maps ACK to INVITE).
  }
}
