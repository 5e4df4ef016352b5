/**
 * INVITE server transaction: RFC 3261 §17.2.1 with RFC 6026 §7.1 (the
 * Accepted state replaces "2xx ends the transaction": retransmitted INVITEs
 * are absorbed, the TU retransmits its 2xx itself, §13.3.1.4).
 *
 *                        |INVITE
 *                        |pass INVITE to TU; 100 Trying after 200 ms
 *     INVITE             V  if the TU has not answered
 *     resend last  +-----------+
 *     provisional  |           |--------------------------+
 *        +---------|Proceeding |  1xx from TU: send       |
 *        +-------->|           |<----+                    |
 *                  +-----------+-----+                    |
 *     300-699 from TU |     |2xx from TU: send            |
 *     send response   |     V                             |
 *     (G on UDP, H)   |  +-----------+  2xx from TU: send |
 *                     |  | Accepted  |<--+                |
 *     INVITE          |  |           |---+ INVITE: absorb |
 *     resend final    |  |           |     ACK: to TU     |
 *        +--------+   |  +-----------+                    |
 *        |        V   V       |Timer L                    |
 *        |   +-----------+    |                           |
 *        +---| Completed |    |                           |
 *  Timer G:  +-----------+    |                           |
 *  resend final |  |          |                           |
 *     Timer H   |  |ACK       |                           |
 *     (tell TU) |  V          |                           |
 *               | +-----------+                           |
 *               | | Confirmed | ACK: absorb               |
 *               | +-----------+                           |
 *               |      |Timer I (0 on TCP/TLS)            |
 *               V      V      V                           |
 *             +---------------------+   transport error   |
 *             |     Terminated      |<--------------------+
 *             +---------------------+
 *
 * In Accepted and Confirmed the layer keeps a compact record in place of
 * the transaction (completed-transactions.ts): it absorbs what these states
 * absorb and passes Accepted's ACKs to the TU.
 */
import { createResponse } from '../message/index.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { InboundMessage } from '../transport/api.js';
import { ServerTransactionBase } from './server-transaction.js';
import type { ServerTxEnv, ServerTxInit } from './server-transaction.js';
import type { TransitionTable } from '../../util/state-machine.js';

export type InviteServerState = 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';

export const INVITE_SERVER_TRANSITIONS: TransitionTable<InviteServerState> = {
  Proceeding: ['Completed', 'Accepted', 'Terminated'],
  Completed: ['Confirmed', 'Terminated'],
  Confirmed: ['Terminated'],
  Accepted: ['Terminated'],
  Terminated: [],
};

export class InviteServerTransaction extends ServerTransactionBase<InviteServerState> {
  protected readonly terminatedState = 'Terminated' as const;
  /** The current Timer G interval: T1 doubling up to T2 (§17.2.1). */
  private intervalG: number;

  constructor(env: ServerTxEnv, init: ServerTxInit) {
    super(env, init, 'INVITE server', 'Proceeding', INVITE_SERVER_TRANSITIONS);
    this.intervalG = this.t.G;
    // §17.2.1: a 100 Trying unless the TU answers within 200 ms.
    this.timers.set('TRYING', this.t.TRYING, () => {
      if (this.fsm.state === 'Proceeding' && !this.lastProvisional) this.provisional(createResponse(this.request, 100, 'Trying'));
    });
  }

  respond(response: SipResponse): void {
    const status = response.status;
    const state = this.state;
    if (state === 'Proceeding') {
      if (status < 200) {
        this.provisional(response);
        return;
      }
      this.timers.cancel('TRYING');
      this.lastFinal = response;
      if (status < 300) {
        this.fsm.transition('Accepted');
        this.sendFinal(response);
        // RFC 6026 §7.1: until Timer L, INVITE retransmissions are absorbed and
        // ACKs go to the TU: the layer's record does that; nothing is resent.
        if (this.fsm.state === 'Accepted') this.retire('L', 'Accepted', undefined);
        return;
      }
      this.fsm.transition('Completed');
      this.sendFinal(response);
      if (this.fsm.state !== 'Completed') return;
      if (!this.reliable) this.armG();
      this.timers.set('H', this.t.H, () => {
        if (this.fsm.state !== 'Completed') return;
        this.terminate();
        this.env.ackTimeout(this);
      });
      return;
    }
    if (state === 'Accepted' && status >= 200 && status < 300) {
      // RFC 6026 §8.7: the TU's 2xx retransmissions pass through.
      this.send(response);
      return;
    }
    this.illegal(response);
  }

  retransmission(): void {
    const state = this.fsm.state;
    switch (state) {
      case 'Proceeding':
        if (this.lastProvisional) this.send(this.lastProvisional);
        return;
      case 'Completed':
        if (this.lastFinal) this.send(this.lastFinal);
        return;
      case 'Confirmed':
      case 'Accepted':
      case 'Terminated':
        // Absorbed: in Accepted the TU's own 2xx retransmissions cover it (RFC 6026 §7.1).
        return;
      default: {
        const never: never = state;
        throw new Error(`unknown state ${String(never)}`);
      }
    }
  }

  ack(request: SipRequest, inbound: InboundMessage): void {
    const state = this.fsm.state;
    if (state === 'Completed') {
      this.timers.cancel('G', 'H');
      this.fsm.transition('Confirmed');
      if (this.t.I === 0) this.terminate();
      // §17.2.1: until Timer I, ACK retransmissions are absorbed (the layer's record).
      else this.retire('I', 'Confirmed', undefined);
    } else if (state === 'Accepted') {
      this.env.passAck(request, inbound);
    }
    // Proceeding (no final yet) and Confirmed (a retransmitted ACK): absorbed.
  }

  private provisional(response: SipResponse): void {
    this.timers.cancel('TRYING');
    this.lastProvisional = response;
    this.send(response);
  }

  private armG(): void {
    this.timers.set('G', this.intervalG, () => {
      if (this.fsm.state !== 'Completed' || !this.lastFinal) return;
      this.send(this.lastFinal);
      this.intervalG = Math.min(2 * this.intervalG, this.t.T2);
      this.armG();
    });
  }
}
