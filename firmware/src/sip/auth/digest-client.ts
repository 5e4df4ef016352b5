/**
 * The client side of SIP digest authentication (RFC 3261 §22.2–22.3,
 * RFC 7616 §3.4, RFC 8760 §2.4): given a 401 or 407 and the request that got
 * it, build the Authorization or Proxy-Authorization line for the retry.
 *
 * Of the Digest challenges offered we take the strongest algorithm we support
 * (SHA-256 before MD5; -sess forms count as their base). qop: `auth` when
 * offered, else `auth-int` when that is all there is, else the RFC 2069 form
 * without qop, nc or cnonce.
 */
import { randomBytes } from 'node:crypto';
import { PgwError } from '../../util/errors.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import { algorithmStrength, computeDigestResponse, computeHa1, normalizeAlgorithm, type DigestAlgorithm } from './digest-hash.js';
import { formatDigest, parseAuthHeader } from './digest-params.js';

export interface AnswerChallengeOptions {
  response: SipResponse;
  request: SipRequest;
  username: string;
  password: string;
  /** Client nonce; random when absent (tests pass the RFC vectors' value). */
  cnonce?: string;
  /** Nonce-count, 1 for the first use of a nonce. */
  nc?: number;
}

interface Offer {
  algorithm: DigestAlgorithm;
  params: Map<string, string>;
}

/** Pick the challenge to answer from a 401/407; undefined when none is usable. */
export function pickChallenge(response: SipResponse): Offer | undefined {
  const header = response.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
  let best: Offer | undefined;
  for (const line of response.headers.getAll(header)) {
    for (const c of parseAuthHeader(line)) {
      if (c.scheme.toLowerCase() !== 'digest') continue;
      if (c.params.get('realm') === undefined || c.params.get('nonce') === undefined) continue;
      const algorithm = normalizeAlgorithm(c.params.get('algorithm'));
      if (algorithm === undefined) continue; // e.g. SHA-512-256: skip, look for one we know
      if (!best || algorithmStrength(algorithm) > algorithmStrength(best.algorithm)) best = { algorithm, params: c.params };
    }
  }
  return best;
}

/** Returns [header name, value] to add to the re-sent request (with a new CSeq, RFC 3261 §22.2). */
export function answerChallenge(opts: AnswerChallengeOptions): [string, string] {
  const { response, request } = opts;
  if (response.status !== 401 && response.status !== 407) {
    throw new PgwError('PGW_E_AUTH', `not a challenge: ${response.status}`);
  }
  const offer = pickChallenge(response);
  if (!offer) throw new PgwError('PGW_E_AUTH', 'no supported Digest challenge', { context: { status: response.status } });
  const p = offer.params;
  const realm = p.get('realm')!;
  const nonce = p.get('nonce')!;
  const qops = (p.get('qop') ?? '')
    .split(',')
    .map((q) => q.trim().toLowerCase())
    .filter((q) => q !== '');
  const qop: 'auth' | 'auth-int' | undefined = qops.includes('auth')
    ? 'auth'
    : qops.includes('auth-int')
      ? 'auth-int'
      : undefined;
  const nc = (opts.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = opts.cnonce ?? randomBytes(12).toString('hex');
  const uri = request.uri;
  const ha1 = computeHa1(offer.algorithm, opts.username, realm, opts.password);
  const digest = computeDigestResponse({
    algorithm: offer.algorithm,
    ha1,
    nonce,
    method: request.method,
    uri,
    body: request.body,
    ...(qop ? { qop, nc, cnonce } : {}),
  });

  const out: Array<[string, string]> = [
    ['username', opts.username],
    ['realm', realm],
    ['nonce', nonce],
    ['uri', uri],
    ['response', digest],
  ];
  // Echo the algorithm as offered when one was named (RFC 7616 §3.4: it must match).
  if (p.get('algorithm') !== undefined) out.push(['algorithm', offer.algorithm]);
  if (p.get('opaque') !== undefined) out.push(['opaque', p.get('opaque')!]);
  if (qop) out.push(['qop', qop], ['nc', nc], ['cnonce', cnonce]);
  const name = response.status === 407 ? 'Proxy-Authorization' : 'Authorization';
  return [name, formatDigest(out, 'credentials')];
}

/** The realm of the challenge answerChallenge would pick, for credential lookup by realm. */
export function challengeRealm(response: SipResponse): string | undefined {
  return pickChallenge(response)?.params.get('realm');
}
