/**
 * The shape every benchmark in tests/bench/ exports, so `make bench`
 * (tests/bench/run.ts) can run them all and write docs/BENCHMARKS.md.
 *
 *   // tests/bench/<name>.bench.ts
 *   import type { Bench } from './bench-api.js';
 *   const bench: Bench = {
 *     name: 'sip-register',                  // what `make bench` filters on
 *     title: 'Authenticated REGISTERs per second',
 *     issue: 2,
 *     timeoutMs: 4 * 60_000,                 // the runner kills it after this
 *     async run(ctx) {
 *       ctx.log('ramping ...');              // progress, to the terminal
 *       return {
 *         figures: [{ label: 'REGISTERs/s', value: 2400, unit: '/s', target: '>= 2000', met: true }],
 *         method: ['SIPp register-auth.xml ...'],
 *       };
 *     },
 *   };
 *   export default bench;
 *
 * Each benchmark runs in a process of its own (so one that hangs or leaks
 * cannot disturb the next, and the runner can always kill it), with a fresh
 * work directory. Figures must come from what the run measured; a target that
 * is not met is reported as not met, never hidden.
 *
 * Scripts in tests/bench/ that are not `*.bench.ts` (standalone scripts that
 * print a table and a `BENCH {json}` line) are run as they are and reported
 * with their output: see run.ts.
 */

export interface BenchContext {
  /** A fresh directory for this run's files (removed afterwards unless PGW_KEEP_TEST_FILES=1). */
  readonly workDir: string;
  /** When the runner will kill this benchmark (ms since the epoch): plan the steps to end before. */
  readonly deadline: number;
  /** A progress line on the terminal (stderr), prefixed with the benchmark's name. */
  log(message: string): void;
}

/** One headline number. */
export interface BenchFigure {
  /** What it is, e.g. 'authenticated REGISTERs per second (< 0.1 % failures)'. */
  label: string;
  value: number | string;
  /** e.g. '/s', 'ms', 'MB', 'calls'. */
  unit?: string;
  /** The issue's target in words, e.g. '>= 2000'. */
  target?: string;
  /** Whether the target is met; absent when there is no target. */
  met?: boolean;
}

export interface BenchTable {
  caption?: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

export interface BenchResult {
  figures: BenchFigure[];
  /** How it was measured: one paragraph or bullet per entry (Markdown). */
  method: string[];
  /** The steps behind the figures (ramp steps, levels, ...). */
  tables?: BenchTable[];
  /** What was seen: bottlenecks (file, function, what), caveats. */
  notes?: string[];
  /** Raw results, kept in the run's JSON output (not in the Markdown). */
  data?: unknown;
}

export interface Bench {
  /** Unique, kebab-case; the file is `<name>.bench.ts`. */
  name: string;
  title: string;
  /** The issue whose benchmark this is. */
  issue?: number;
  /** Hard bound of one run; the runner kills the process after it. */
  timeoutMs: number;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** Number formatting shared by benchmark tables: integers as is, else `digits` decimals, NaN as '-'. */
export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return '-';
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}
