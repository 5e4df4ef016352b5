/**
 * The auth-param lists of WWW-Authenticate / Proxy-Authenticate (challenges)
 * and Authorization / Proxy-Authorization (credentials), RFC 3261 §25.1
 * (`challenge`, `credentials`) and RFC 7616 §3.3–3.4.
 *
 *   Digest realm="atlanta.com", nonce="84a4cc6f", qop="auth", algorithm=SHA-256
 *
 * One header line may carry several challenges separated by commas
 * (`Digest a=1, b=2, Digest c=3`, RFC 7235 §4.1); a new one starts where a
 * bare token is followed by whitespace and another token with `=`.
 */

export interface AuthChallenge {
  /** Scheme as written, e.g. `Digest`. Compare case-insensitively. */
  scheme: string;
  /** Parameter names lower-cased; values unquoted and unescaped. */
  params: Map<string, string>;
}

const TOKEN = /[A-Za-z0-9\-.!%*_+`'~]/;

/** Parse one header value into its challenges (or credentials). Tolerant: a broken tail is dropped. */
export function parseAuthHeader(value: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  const n = value.length;
  const skipWs = (): void => {
    while (i < n && (value[i] === ' ' || value[i] === '\t' || value[i] === '\r' || value[i] === '\n')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && TOKEN.test(value[i]!)) i++;
    return value.slice(start, i);
  };
  let current: AuthChallenge | undefined;
  while (i < n) {
    skipWs();
    while (i < n && value[i] === ',') {
      i++;
      skipWs();
    }
    if (i >= n) break;
    const tokenStart = i;
    const token = readToken();
    if (token === '') break; // garbage: stop, keep what we have
    skipWs();
    if (value[i] === '=') {
      // auth-param of the current challenge
      i++;
      skipWs();
      let v: string;
      if (value[i] === '"') {
        i++;
        let s = '';
        while (i < n && value[i] !== '"') {
          // quoted-pair (RFC 3261 §25.1)
          if (value[i] === '\\' && i + 1 < n) i++;
          s += value[i];
          i++;
        }
        i++; // closing quote (or end)
        v = s;
      } else {
        const start = i;
        while (i < n && value[i] !== ',' && value[i] !== ' ' && value[i] !== '\t') i++;
        v = value.slice(start, i);
      }
      if (!current) current = { scheme: '', params: new Map() };
      if (!current.params.has(token.toLowerCase())) current.params.set(token.toLowerCase(), v);
    } else {
      // a scheme name: a new challenge starts
      if (tokenStart === i) break;
      current = { scheme: token, params: new Map() };
      out.push(current);
    }
  }
  return out.filter((c) => c.scheme !== '');
}

/** Parameters whose value is always a quoted-string (RFC 7616 §3.3/§3.4). */
const QUOTED = new Set(['realm', 'nonce', 'uri', 'response', 'cnonce', 'opaque', 'username', 'domain']);

function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, (c) => '\\' + c) + '"';
}

/**
 * Format `Digest k=v, ...` keeping the given order. `qop` is quoted in a
 * challenge (a list) and bare in credentials (one value), so the caller says which.
 */
export function formatDigest(params: Array<[string, string]>, kind: 'challenge' | 'credentials'): string {
  const parts = params.map(([k, v]) => {
    const lower = k.toLowerCase();
    const quoted = QUOTED.has(lower) || (lower === 'qop' && kind === 'challenge');
    return `${k}=${quoted ? quote(v) : v}`;
  });
  return 'Digest ' + parts.join(', ');
}
