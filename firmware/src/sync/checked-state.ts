/**
 * A small checked state machine (ARCHITECTURE.md, convention 2): legal
 * moves are data, transition() is the only way to change state, illegal
 * moves throw PGW_E_STATE_TRANSITION, legal ones are logged at debug level.
 */
import { PgwError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export class CheckedState<S extends string> {
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

  transition(to: S, why?: string): void {
    const from = this.current;
    if (!this.table[from].includes(to))
      throw new PgwError('PGW_E_STATE_TRANSITION', `${this.name}: illegal transition ${from} -> ${to}`, { context: { from, to } });
    this.current = to;
    this.logger.debug({ from, to, why }, `${this.name} ${from} -> ${to}`);
  }
}
