/**
 * The admin API's router: a table of method + path pattern → handler, with
 * `:name` segments as parameters. It tells 404 (no such path) from 405 (the
 * path exists, not with this method: RFC 9110 §15.5.6, with Allow).
 */
export type RouteParams = Record<string, string>;

export interface Route<H> {
  method: string;
  path: string;
  handler: H;
}

export type RouteMatch<H> =
  | { kind: 'found'; handler: H; params: RouteParams }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

export class Router<H> {
  private readonly routes: Array<Route<H> & { segments: string[] }> = [];

  add(method: string, path: string, handler: H): this {
    this.routes.push({ method: method.toUpperCase(), path, handler, segments: split(path) });
    return this;
  }

  list(): Array<{ method: string; path: string }> {
    return this.routes.map((r) => ({ method: r.method, path: r.path }));
  }

  match(method: string, pathname: string): RouteMatch<H> {
    const parts = split(pathname);
    const allow = new Set<string>();
    for (const r of this.routes) {
      const params = matchSegments(r.segments, parts);
      if (!params) continue;
      // HEAD is GET without a body (RFC 9110 §9.3.2).
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { kind: 'found', handler: r.handler, params };
      allow.add(r.method);
      if (r.method === 'GET') allow.add('HEAD');
    }
    return allow.size > 0 ? { kind: 'method-not-allowed', allow: [...allow].sort() } : { kind: 'not-found' };
  }
}

/** `/api/v1/status/` and `/api/v1/status` are the same path. */
function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(pattern: string[], parts: string[]): RouteParams | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: RouteParams = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith(':')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(v);
      } catch {
        return undefined;
      }
      params[p.slice(1)] = decoded;
    } else if (p !== v) return undefined;
  }
  return params;
}
