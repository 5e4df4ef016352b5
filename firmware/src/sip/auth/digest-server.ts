/**
 * The server side of SIP digest authentication (RFC 3261 §22.4, RFC 7616,
 * RFC 8760), used by the registrar and the B2BUA to challenge phones.
 *
 * - challenge() gives one WWW-Authenticate (or Proxy-Authenticate) line per
 *   algorithm, SHA-256 first then MD5 (RFC 8760 §2.4: in order of preference),
 *   all with qop="auth" and the same stateless nonce (see nonce.ts).
 * - verify() checks the credentials in a request. Its answer is one of
 *   ok / stale / fail. `stale` is only given when the digest itself is right
 *   (RFC 7616 §3.3: stale means "the password was good, the nonce was not"),
 *   so it reveals nothing to someone without the password.
 * - Wrong password and unknown user follow the same code path and give the
 *   same result and reason (`credentials`): a digest is computed against a
 *   dummy secret for an unknown user, so the timing matches too.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../util/clock.js';
import type { SipRequest } from '../message/types.js';
import {
  computeDigestResponse,
  computeHa1,
  constantTimeEqual,
  normalizeAlgorithm,
  type DigestAlgorithm,
} from './digest-hash.js';
import { formatDigest, parseAuthHeader, type AuthChallenge } from './digest-params.js';
import { NonceCountTracker } from './nonce-count-tracker.js';
import { NonceFactory } from './nonce.js';

/** What a credential store gives for a user: the password, or precomputed H(A1) per algorithm. */
export type DigestSecret = string | { ha1: Partial<Record<'MD5' | 'SHA-256', string>> };

export type DigestLookup = (username: string) => DigestSecret | undefined;

/**
 * Why verification failed, for logs and metrics. `credentials` covers both an
 * unknown user and a wrong password on purpose. Callers answer every failure
 * the same way (a fresh challenge), never with a reason-specific status.
 */
export type DigestFailReason =
  | 'missing' // no credentials for our realm
  | 'malformed' // a required parameter is absent or unparseable
  | 'algorithm' // an algorithm we did not offer
  | 'qop' // a qop we did not offer, or none when required
  | 'nonce' // not a nonce we issued
  | 'uri' // digest-uri does not match the Request-URI
  | 'credentials'; // unknown user or wrong password

export type DigestVerifyResult =
  | { result: 'ok'; username: string }
  | { result: 'stale' }
  | { result: 'fail'; reason: DigestFailReason };

export interface DigestServerOptions {
  realm: string;
  clock: Clock;
  /** HMAC key for nonces; random per boot when absent. */
  secret?: Buffer;
  /** Nonce lifetime; older nonces with a right digest get stale=true. Default 5 min. */
  nonceTtlMs?: number;
  /** Offered algorithms, in preference order. Default SHA-256 then MD5. */
  algorithms?: Array<'SHA-256' | 'MD5'>;
  /**
   * Accept credentials without qop (RFC 2069 form) from old devices even
   * though we offer qop=auth. Default true; such credentials have no
   * nonce-count, so replay protection is only the nonce lifetime.
   */
  allowNoQop?: boolean;
  /** Check digest-uri against the Request-URI: 'loose' (default) or 'off'. */
  uriCheck?: 'loose' | 'off';
  /** LRU bound of the nonce-count tracker. Default 10,000 nonces. */
  maxTrackedNonces?: number;
}

export interface DigestServer {
  readonly realm: string;
  challenge(opts?: { stale?: boolean; proxy?: boolean }): [string, string][];
  verify(request: SipRequest, lookup: DigestLookup): DigestVerifyResult;
}

/** How far in the future an issue time may be (clock steps) before we call it stale. */
const FUTURE_SKEW_MS = 60_000;

export function createDigestServer(options: DigestServerOptions): DigestServer {
  const realm = options.realm;
  const clock = options.clock;
  const ttl = options.nonceTtlMs ?? 300_000;
  const algorithms = options.algorithms ?? ['SHA-256', 'MD5'];
  const allowNoQop = options.allowNoQop ?? true;
  const uriCheck = options.uriCheck ?? 'loose';
  const nonces = new NonceFactory(options.secret ? { realm, secret: options.secret } : { realm });
  const counts = new NonceCountTracker(options.maxTrackedNonces);
  // Stands in for an unknown user's password so that path costs the same.
  const dummyPassword = randomBytes(16).toString('hex');

  function challenge(opts: { stale?: boolean; proxy?: boolean } = {}): [string, string][] {
    const header = opts.proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    const nonce = nonces.issue(clock.now());
    return algorithms.map((alg) => {
      const params: Array<[string, string]> = [
        ['realm', realm],
        ['nonce', nonce],
        ['algorithm', alg],
        ['qop', 'auth'],
      ];
      if (opts.stale) params.push(['stale', 'true']);
      return [header, formatDigest(params, 'challenge')];
    });
  }

  function findCredentials(request: SipRequest): AuthChallenge | undefined {
    const lines = [...request.headers.getAll('Authorization'), ...request.headers.getAll('Proxy-Authorization')];
    for (const line of lines) {
      for (const c of parseAuthHeader(line)) {
        if (c.scheme.toLowerCase() === 'digest' && c.params.get('realm') === realm) return c;
      }
    }
    return undefined;
  }

  function verify(request: SipRequest, lookup: DigestLookup): DigestVerifyResult {
    const cred = findCredentials(request);
    if (!cred) return { result: 'fail', reason: 'missing' };
    const p = cred.params;
    const username = p.get('username');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return { result: 'fail', reason: 'malformed' };
    }
    // RFC 7616 §3.4.4 userhash: we never offer it.
    if (p.get('userhash')?.toLowerCase() === 'true') return { result: 'fail', reason: 'malformed' };

    const algorithm = normalizeAlgorithm(p.get('algorithm'));
    if (algorithm === undefined || !(algorithms as DigestAlgorithm[]).includes(algorithm)) {
      return { result: 'fail', reason: 'algorithm' };
    }

    const qopRaw = p.get('qop');
    let qop: 'auth' | 'auth-int' | undefined;
    let ncValue: number | undefined;
    const cnonce = p.get('cnonce');
    const nc = p.get('nc');
    if (qopRaw === undefined) {
      if (!allowNoQop) return { result: 'fail', reason: 'qop' };
    } else if (qopRaw.toLowerCase() === 'auth') {
      qop = 'auth';
      if (cnonce === undefined || nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc)) {
        return { result: 'fail', reason: 'malformed' };
      }
      ncValue = parseInt(nc, 16);
    } else {
      return { result: 'fail', reason: 'qop' };
    }

    const issued = nonces.check(nonce);
    if (!issued.valid) return { result: 'fail', reason: 'nonce' };

    if (uriCheck === 'loose' && !uriLooselyMatches(uri, request.uri)) return { result: 'fail', reason: 'uri' };

    // From here on, unknown user and wrong password share one path.
    const secret = lookup(username);
    const ha1 = ha1For(secret, algorithm, username) ?? computeHa1(algorithm, username, realm, dummyPassword);
    const expected = computeDigestResponse({
      algorithm,
      ha1,
      nonce,
      method: request.method,
      uri,
      ...(qop ? { qop, nc: nc!, cnonce: cnonce! } : {}),
    });
    const match = constantTimeEqual(expected, response.toLowerCase());
    if (!match || secret === undefined) return { result: 'fail', reason: 'credentials' };

    const age = clock.now() - issued.issuedAt;
    if (age > ttl || age < -FUTURE_SKEW_MS) return { result: 'stale' };
    // Counted only once the digest is proven, so a stranger cannot push a count up.
    if (ncValue !== undefined && !counts.accept(nonce, ncValue)) return { result: 'stale' };
    return { result: 'ok', username };
  }

  function ha1For(secret: DigestSecret | undefined, algorithm: DigestAlgorithm, username: string): string | undefined {
    if (secret === undefined) return undefined;
    if (typeof secret === 'string') return computeHa1(algorithm, username, realm, secret);
    const base = algorithm.startsWith('SHA-256') ? 'SHA-256' : 'MD5';
    const h = secret.ha1[base];
    return h === undefined ? undefined : h.toLowerCase();
  }

  return { realm, challenge, verify };
}

/**
 * digest-uri vs Request-URI (RFC 3261 §22.4 leaves the check to the server).
 * Phones differ in what they copy: some drop `;transport=`, the port or
 * `sips`→`sip`, some write the IP where the Request-URI has it too. We demand
 * the same user and host (case-insensitive host) and ignore the rest; the
 * digest covers the uri anyway, so this only stops a digest being replayed
 * at another target.
 */
export function uriLooselyMatches(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  const a = looseParts(digestUri);
  const b = looseParts(requestUri);
  if (!a || !b) return false;
  return a.user === b.user && a.host === b.host;
}

function looseParts(uri: string): { user: string; host: string } | undefined {
  const m = /^\s*<?(?:sips?|tel):(?:([^@;?>]*)@)?(\[[^\]]+\]|[^:;?>]+)/i.exec(uri);
  if (!m) return undefined;
  return { user: (m[1] ?? '').split(':')[0]!, host: m[2]!.toLowerCase() };
}
