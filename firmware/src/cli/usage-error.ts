/** A command line used wrongly: the CLI prints the message and the usage, and exits 2. */
import { PgwError } from '../util/errors.js';

export function usageError(message: string): PgwError {
  return new PgwError('PGW_E_USAGE', message);
}
