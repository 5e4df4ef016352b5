/**
 * Secrets never appear in anything the box publishes or logs (issue 3).
 * Redaction by field name (config/redact.ts) covers documents; this covers
 * free text such as an applier's error message that quotes a value: every
 * secret value found in the documents involved is replaced by "***".
 */
import { REDACTED, SECRET_FIELDS } from '../config/redact.js';
import type { ConfigProblem } from '../config/problems.js';

/** Longest message kept in a published error; the rest is cut. */
export const MAX_PROBLEM_MESSAGE = 300;
/** Longest list of errors published in one report. */
export const MAX_PROBLEMS = 100;

/** Values of secret fields (see SECRET_FIELDS) anywhere in `docs`, longest first. */
export function collectSecrets(...docs: unknown[]): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (SECRET_FIELDS.has(k) && (typeof x === 'string' || typeof x === 'number')) {
          // Very short values (a 1-char test password) would blank out ordinary text.
          const s = String(x);
          if (s.length >= 4) found.add(s);
        } else walk(x);
      }
    }
  };
  docs.forEach(walk);
  return [...found].sort((a, b) => b.length - a.length);
}

export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Problems safe to publish: secrets scrubbed, messages and list bounded. */
export function scrubProblems(problems: readonly ConfigProblem[], secrets: readonly string[]): ConfigProblem[] {
  const out = problems.slice(0, MAX_PROBLEMS).map((p) => {
    const message = scrubText(String(p.message), secrets);
    return {
      path: scrubText(String(p.path), secrets),
      message: message.length > MAX_PROBLEM_MESSAGE ? `${message.slice(0, MAX_PROBLEM_MESSAGE - 1)}…` : message,
    };
  });
  if (problems.length > MAX_PROBLEMS)
    out.push({ path: '(root)', message: `${problems.length - MAX_PROBLEMS} more problems not shown` });
  return out;
}
