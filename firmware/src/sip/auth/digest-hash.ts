/**
 * The digest computation itself (RFC 7616 §3.4.1–3.4.3, RFC 2617 §3.2.2,
 * RFC 2069 for the no-qop form), for the algorithms SIP uses (RFC 8760 §2.2).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Algorithms we compute. The server offers only the plain forms. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export const SUPPORTED_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

/** The algorithm token as written (case-insensitive, absent means MD5, RFC 7616 §3.3) → ours. */
export function normalizeAlgorithm(token: string | undefined): DigestAlgorithm | undefined {
  if (token === undefined || token === '') return 'MD5';
  const t = token.toUpperCase();
  for (const a of SUPPORTED_ALGORITHMS) if (a.toUpperCase() === t) return a;
  return undefined;
}

/** Strength order for choosing among offers: higher is stronger. */
export function algorithmStrength(a: DigestAlgorithm): number {
  switch (a) {
    case 'SHA-256':
    case 'SHA-256-sess':
      return 2;
    case 'MD5':
    case 'MD5-sess':
      return 1;
    default: {
      const never: never = a;
      return never;
    }
  }
}

function hashName(a: DigestAlgorithm): 'md5' | 'sha256' {
  return a.startsWith('SHA-256') ? 'sha256' : 'md5';
}

export function digestHash(a: DigestAlgorithm, data: string | Buffer): string {
  return createHash(hashName(a)).update(data).digest('hex');
}

/** H(username:realm:password), the value a store may keep instead of the password. */
export function computeHa1(a: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(a, `${username}:${realm}:${password}`);
}

export interface DigestInputs {
  algorithm: DigestAlgorithm;
  /** H(username:realm:password) for this algorithm's hash. */
  ha1: string;
  nonce: string;
  method: string;
  uri: string;
  /** Absent: the RFC 2069 form with no qop, nc or cnonce. */
  qop?: 'auth' | 'auth-int';
  nc?: string;
  cnonce?: string;
  /** The message body, for qop=auth-int. */
  body?: Buffer;
}

/** The `response` value, lower-case hex. */
export function computeDigestResponse(d: DigestInputs): string {
  let ha1 = d.ha1;
  // RFC 7616 §3.4.2: the -sess forms hash the nonce and cnonce into A1.
  if (d.algorithm.endsWith('-sess')) ha1 = digestHash(d.algorithm, `${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const a2 =
    d.qop === 'auth-int'
      ? `${d.method}:${d.uri}:${digestHash(d.algorithm, d.body ?? Buffer.alloc(0))}`
      : `${d.method}:${d.uri}`;
  const ha2 = digestHash(d.algorithm, a2);
  if (d.qop === undefined) return digestHash(d.algorithm, `${ha1}:${d.nonce}:${ha2}`);
  return digestHash(d.algorithm, `${ha1}:${d.nonce}:${d.nc ?? ''}:${d.cnonce ?? ''}:${d.qop}:${ha2}`);
}

/**
 * Compare two strings without leaking where they differ. Lengths may leak,
 * which is harmless here: a digest's length is fixed by its algorithm.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}
