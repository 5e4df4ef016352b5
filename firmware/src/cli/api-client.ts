/** A small client of the local admin API for the CLI (`pgw status`, ...). */
import { PgwError } from '../util/errors.js';

/** Validates --api: an http(s) URL without a path beyond `/`. Returns it without a trailing slash. */
export function normaliseApiUrl(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/**
 * GET base+path and parse JSON. PGW_E_API, with a message saying what went
 * wrong in words, when the gateway cannot be reached, times out, answers
 * non-2xx (its JSON error message is quoted) or answers something not JSON.
 */
export async function getApiJson(base: string, path: string, options: { timeoutMs?: number } = {}): Promise<unknown> {
  const url = `${base}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000), headers: { accept: 'application/json' } });
  } catch (e) {
    throw new PgwError('PGW_E_API', `cannot reach the gateway at ${base}: ${describeFetchError(e)}`, { cause: e, context: { url } });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PgwError('PGW_E_API', `${url} answered HTTP ${res.status} with something that is not JSON`, { context: { url, status: res.status } });
  }
  if (!res.ok) {
    const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
    throw new PgwError('PGW_E_API', `${url} answered HTTP ${res.status}${typeof message === 'string' ? `: ${message}` : ''}`, {
      context: { url, status: res.status },
    });
  }
  return body;
}

function describeFetchError(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'no answer in time';
  const cause = e instanceof Error ? (e.cause as NodeJS.ErrnoException | undefined) : undefined;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is `pgw run` running, and is --api its device.admin.listen?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return cause?.message ?? (e instanceof Error ? e.message : String(e));
  }
}
