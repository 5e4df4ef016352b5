/**
 * A tiny checked state machine (ARCHITECTURE.md, convention 2): the legal
 * moves are data, transition() is the only way to change state, it rejects
 * illegal moves with PGW_E_STATE_TRANSITION and logs legal ones at trace level.
 */
import { PgwError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';

export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export class StateMachine<S extends string> {
  private current: S;

  constructor(
    private readonly name: string,
    initial: S,
    private readonly table: TransitionTable<S>,
    private readonly logger: Logger,
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  can(to: S): boolean {
    return this.table[this.current].includes(to);
  }

  transition(to: S): void {
    const from = this.current;
    if (!this.table[from].includes(to)) {
      throw new PgwError('PGW_E_STATE_TRANSITION', `${this.name}: illegal transition ${from} -> ${to}`, {
        context: { from, to },
      });
    }
    this.current = to;
    if (this.logger.isLevelEnabled('trace')) this.logger.trace({ from, to }, `${this.name} ${from} -> ${to}`);
  }
}
