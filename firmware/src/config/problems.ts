/**
 * A validation problem: where (a JSON path such as
 * `practice.huntGroups[0].members[2]`) and what. This is the shape
 * `pgw check-config` prints as `path: message` and `config/reported`
 * publishes in its `errors` array (CONTRACT.md).
 */
import type { z } from 'zod';

export interface ConfigProblem {
  path: string;
  message: string;
}

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Joins segments into a JSON path: keys with dots, indices in brackets,
 * keys that are not identifiers quoted in brackets. With no segments and no
 * prefix the path is `(root)`: the document itself.
 */
export function formatPath(segments: readonly PathSegment[], prefix = ''): string {
  let out = prefix;
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Messages that say what to do, instead of zod's generic ones where they
 * are unclear to an installer. Passed to safeParse, so it changes nothing
 * for other users of zod.
 */
export function configErrorMap(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
  return undefined;
}

/** zod issues → problems; one problem per unknown key, at the key itself. */
export function problemsFromZod(issues: readonly z.core.$ZodIssue[], prefix = ''): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...path, key], prefix), message: 'unknown field' });
    } else {
      out.push({ path: formatPath(path, prefix), message: issue.message });
    }
  }
  return out;
}

/** `path: message`, the line format of check-config. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.path}: ${p.message}`;
}
