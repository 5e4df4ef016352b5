/**
 * INVITE client transaction: RFC 3261 §17.1.1 with RFC 6026 §7.2 (the
 * Accepted state: 2xx responses, retransmitted by the far UAS core, keep
 * going to the TU, which ACKs them itself, §13.2.2.4).
 *
 *                    |INVITE from TU
 *   Timer A fires    |INVITE sent (Timer A only on UDP)
 *   INVITE resent,   V                       Timer B fires / transport error
 *   A doubled   +-----------+                inform TU
 *       +-------|  Calling  |------------------------------------+
 *       +------>|           |--------------+                     |
 *               +-----------+ 2xx to TU    |                     |
 *   300-699        |    |1xx to TU         |                     |
 *   ACK sent       |    V                  |                     |
 *   resp. to TU    | +-----------+         |                     |
 *      +-----------|-|Proceeding |--2xx--->|                     |
 *      |           | +-----------+ to TU   |                     |
 *      |           |   |1xx to TU          V                     |
 *      V           V   |            +-----------+ 2xx to TU      |
 *   +-----------+<-----+ 300-699    | Accepted  |<--+            |
 *   | Completed |<- ACK resent      +-----------+---+            |
 *   +-----------+  on 300-699             |Timer M               |
 *          |Timer D (0 on TCP/TLS)        V                      |
 *          +--------------------->+------------+<----------------+
 *                                 | Terminated |
 *                                 +------------+
 *
 * In Completed the layer keeps a compact record in place of the transaction
 * (completed-transactions.ts), which sends the ACK again.
 *
 * Timer B only ends the transaction in Calling: once a provisional response
 * has come, the TU decides how long to wait (and CANCELs). Timer C, the
 * proxy's guard for that wait, does not apply to a UA (§16.6).
 */
import type { SipRequest, SipResponse } from '../message/types.js';
import { ClientTransactionBase } from './client-transaction.js';
import type { ClientTxEnv, ClientTxInit } from './client-transaction.js';
import { nonSuccessAck } from './non-success-ack.js';
import type { TransitionTable } from '../../util/state-machine.js';

export type InviteClientState = 'Calling' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';

export const INVITE_CLIENT_TRANSITIONS: TransitionTable<InviteClientState> = {
  Calling: ['Proceeding', 'Completed', 'Accepted', 'Terminated'],
  Proceeding: ['Completed', 'Accepted', 'Terminated'],
  Completed: ['Terminated'],
  Accepted: ['Terminated'],
  Terminated: [],
};

export class InviteClientTransaction extends ClientTransactionBase<InviteClientState> {
  protected readonly terminatedState = 'Terminated' as const;
  private ack: SipRequest | undefined;
  /** The current Timer A interval: T1, doubling with every retransmission (§17.1.1.2). */
  private intervalA: number;

  constructor(env: ClientTxEnv, init: ClientTxInit) {
    super(env, init, 'INVITE client', 'Calling', INVITE_CLIENT_TRANSITIONS);
    this.intervalA = this.t.A;
  }

  start(): void {
    this.send(this.request);
    if (!this.reliable) this.armA();
    this.timers.set('B', this.t.B, () => this.timerB());
  }

  receive(response: SipResponse): void {
    const status = response.status;
    const state = this.state;
    switch (state) {
      case 'Calling':
      case 'Proceeding':
        if (status < 200) {
          if (state === 'Calling') {
            this.timers.cancel('A', 'B');
            this.fsm.transition('Proceeding');
          }
          this.tell('onResponse', () => this.handlers.onResponse(response));
        } else if (status < 300) {
          this.timers.cancel('A', 'B');
          this.fsm.transition('Accepted');
          this.timers.set('M', this.t.M, () => this.terminate());
          this.tell('onResponse', () => this.handlers.onResponse(response));
        } else {
          this.timers.cancel('A', 'B');
          this.fsm.transition('Completed');
          this.ack = nonSuccessAck(this.request, response);
          this.send(this.ack);
          this.tell('onResponse', () => this.handlers.onResponse(response));
          if (this.fsm.state !== 'Completed') return;
          if (this.t.D === 0) {
            this.terminate();
            return;
          }
          // §17.1.1.2: until Timer D, each retransmitted final gets the ACK
          // again; the layer's record does that from here on.
          this.retire('D', this.ack);
          this.ack = undefined;
        }
        return;
      case 'Completed':
        // A retransmitted final response: our ACK was lost, send it again (not to the TU).
        if (status >= 300 && this.ack) this.send(this.ack);
        return;
      case 'Accepted':
        // RFC 6026 §7.2: every 2xx goes up; the TU ACKs each.
        if (status >= 200 && status < 300) this.tell('onResponse', () => this.handlers.onResponse(response));
        return;
      case 'Terminated':
        return;
      default: {
        const never: never = state;
        throw new Error(`unknown state ${String(never)}`);
      }
    }
  }

  protected reportsTransportErrors(): boolean {
    return this.fsm.state === 'Calling' || this.fsm.state === 'Proceeding';
  }

  protected becameUnreliable(): void {
    if (this.fsm.state === 'Calling') {
      this.intervalA = this.t.A;
      this.armA();
    }
  }

  private armA(): void {
    this.timers.set('A', this.intervalA, () => {
      if (this.fsm.state !== 'Calling') return;
      this.send(this.request);
      this.intervalA *= 2;
      this.armA();
    });
  }

  private timerB(): void {
    if (this.fsm.state !== 'Calling') return;
    this.terminate();
    this.tell('onTimeout', () => this.handlers.onTimeout());
  }
}
