/**
 * Test users (extensions with passwords) and the SIPp injection file that
 * carries them, in one format every scenario in tests/sipp/ shares:
 *
 *   field0  the SIPp side's user (From user, REGISTER AOR user)
 *   field1  `[authentication username=<user> password=<password>]`
 *   field2  the SIP domain (the registrar / gateway host, e.g. 10.90.1.1)
 *   field3  the user to call (UAC call scenarios), else empty
 *
 * Why field1 holds the whole keyword: SIPp 3.6 does not expand a keyword
 * inside another one (`[authentication username=[field0] ...]` sends the text
 * `[field0` literally), but it does expand a keyword that an injected field
 * contains, so the CSV carries the finished `[authentication ...]`.
 */
import { writeFileSync } from 'node:fs';
import { HarnessError } from './proc.js';

export interface SipUser {
  user: string;
  password: string;
}

/** `count` users numbered from `first` (default 1000) with passwords `pw-<user>-<salt>`. */
export function makeUsers(count: number, opts: { first?: number; salt?: string } = {}): SipUser[] {
  const first = opts.first ?? 1000;
  const salt = opts.salt ?? 'x7';
  return Array.from({ length: count }, (_, i) => {
    const user = String(first + i);
    return { user, password: `pw-${user}-${salt}` };
  });
}

export interface InjectionRow {
  user: string;
  password: string;
  domain: string;
  /** Who to call (UAC call scenarios). */
  target?: string;
}

const SAFE = /^[A-Za-z0-9._~+@:-]*$/;

/**
 * The text of a SIPp `-inf` file for `rows`, read in `order` (SEQUENTIAL
 * loops over the rows call after call; RANDOM picks one per call).
 */
export function injectionCsv(rows: readonly InjectionRow[], order: 'SEQUENTIAL' | 'RANDOM' = 'SEQUENTIAL'): string {
  if (rows.length === 0) throw new HarnessError('an injection file needs at least one row');
  const lines = rows.map((r) => {
    for (const [k, v] of Object.entries(r)) {
      // ';' separates fields, ']' and spaces would end the keyword early.
      if (typeof v === 'string' && !SAFE.test(v)) throw new HarnessError(`injection ${k} '${v}' has unsafe characters`);
    }
    return [r.user, `[authentication username=${r.user} password=${r.password}]`, r.domain, r.target ?? ''].join(';');
  });
  return `${order}\n${lines.join('\n')}\n`;
}

/** Writes injectionCsv() to `path` and returns the path. */
export function writeInjectionFile(path: string, rows: readonly InjectionRow[], order: 'SEQUENTIAL' | 'RANDOM' = 'SEQUENTIAL'): string {
  writeFileSync(path, injectionCsv(rows, order));
  return path;
}
