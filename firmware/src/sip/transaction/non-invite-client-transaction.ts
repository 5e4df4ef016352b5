/**
 * Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6).
 *
 *                          |Request from TU
 *                          |send request (Timer E only on UDP)
 *      Timer E             V
 *      send request  +-----------+
 *      E=min(2E,T2)  |           |-------------------+
 *          +---------|  Trying   |  Timer F /        |
 *          +-------->|           |  transport error  |
 *                    +-----------+  inform TU        |
 *       200-699         |  |                         |
 *       resp. to TU     |  |1xx to TU                |
 *       +---------------+  |                         |
 *       |   Timer E        V         Timer F /       |
 *       |   send req +-----------+   transport error |
 *       |   E=T2     |           |   inform TU       |
 *       |  +---------| Proceeding|------------------>|
 *       |  +-------->|           |-----+             |
 *       |            +-----------+     |1xx to TU    |
 *       |   200-699     |      ^-------+             |
 *       |   resp. to TU |                            |
 *       V               V                            |
 *     +-----------+                                  |
 *     | Completed |  responses absorbed (by the      |
 *     +-----------+  layer's compact record)         |
 *          | Timer K (0 on TCP/TLS)                  |
 *          V                                         |
 *     +-----------+                                  |
 *     | Terminated|<---------------------------------+
 *     +-----------+
 */
import type { SipResponse } from '../message/types.js';
import { ClientTransactionBase } from './client-transaction.js';
import type { ClientTxEnv, ClientTxInit } from './client-transaction.js';
import type { TransitionTable } from '../../util/state-machine.js';

export type NonInviteClientState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

export const NON_INVITE_CLIENT_TRANSITIONS: TransitionTable<NonInviteClientState> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

export class NonInviteClientTransaction extends ClientTransactionBase<NonInviteClientState> {
  protected readonly terminatedState = 'Terminated' as const;
  /** The current Timer E interval: T1 doubling up to T2 in Trying, T2 in Proceeding (§17.1.2.2). */
  private intervalE: number;

  constructor(env: ClientTxEnv, init: ClientTxInit) {
    super(env, init, 'non-INVITE client', 'Trying', NON_INVITE_CLIENT_TRANSITIONS);
    this.intervalE = this.t.E;
  }

  start(): void {
    this.send(this.request);
    if (!this.reliable) this.armE();
    this.timers.set('F', this.t.F, () => this.timerF());
  }

  receive(response: SipResponse): void {
    const state = this.state;
    switch (state) {
      case 'Trying':
      case 'Proceeding':
        if (response.status < 200) {
          if (state === 'Trying') this.fsm.transition('Proceeding');
          this.tell('onResponse', () => this.handlers.onResponse(response));
          return;
        }
        this.timers.cancel('E', 'F');
        this.fsm.transition('Completed');
        this.tell('onResponse', () => this.handlers.onResponse(response));
        if (this.fsm.state !== 'Completed') return;
        if (this.t.K === 0) this.terminate();
        // §17.1.2.2: until Timer K, retransmitted responses are absorbed (the layer's record).
        else this.retire('K', undefined);
        return;
      case 'Completed':
      case 'Terminated':
        // Retransmissions of the final response are absorbed (§17.1.2.2).
        return;
      default: {
        const never: never = state;
        throw new Error(`unknown state ${String(never)}`);
      }
    }
  }

  protected reportsTransportErrors(): boolean {
    return this.fsm.state === 'Trying' || this.fsm.state === 'Proceeding';
  }

  protected becameUnreliable(): void {
    if (this.reportsTransportErrors()) {
      this.intervalE = this.t.E;
      this.armE();
    }
  }

  private armE(): void {
    this.timers.set('E', this.intervalE, () => {
      const state = this.fsm.state;
      if (state !== 'Trying' && state !== 'Proceeding') return;
      this.send(this.request);
      this.intervalE = state === 'Trying' ? Math.min(2 * this.intervalE, this.t.T2) : this.t.T2;
      this.armE();
    });
  }

  private timerF(): void {
    if (!this.reportsTransportErrors()) return;
    this.terminate();
    this.tell('onTimeout', () => this.handlers.onTimeout());
  }
}
