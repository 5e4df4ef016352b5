/**
 * The one checked state machine (ARCHITECTURE.md, convention 2): the legal
 * moves are data, transition() is the only way to change state, it rejects
 * illegal moves with PGW_E_STATE_TRANSITION and logs legal ones (trace by
 * default: transactions move many times a second; pass 'debug' for rarer
 * machines such as the cloud connection).
 */
import { PgwError } from './errors.js';
import type { Logger } from './logger.js';

export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export class StateMachine<S extends string> {
  private current: S;

  constructor(
    private readonly name: string,
    initial: S,
    private readonly table: TransitionTable<S>,
    private readonly logger: Logger,
    private readonly logLevel: 'trace' | 'debug' = 'trace',
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  can(to: S): boolean {
    return this.table[this.current].includes(to);
  }

  /** Move to `to`; `why` goes into the log line. */
  transition(to: S, why?: string): void {
    const from = this.current;
    if (!this.table[from].includes(to)) {
      throw new PgwError('PGW_E_STATE_TRANSITION', `${this.name}: illegal transition ${from} -> ${to}`, { context: { from, to } });
    }
    this.current = to;
    if (this.logger.isLevelEnabled(this.logLevel)) {
      this.logger[this.logLevel]({ from, to, ...(why !== undefined ? { why } : {}) }, `${this.name} ${from} -> ${to}`);
    }
  }
}
