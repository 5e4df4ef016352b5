/**
 * Stateless nonces (RFC 7616 §3.3 suggests `time-stamp H(time-stamp ":" ETag ":" secret)`).
 *
 *   nonce = base64url( issued-at (8 bytes, ms, big-endian) || salt (8 bytes) || HMAC-SHA256(secret, ts || salt || realm)[0..16) )
 *
 * Nothing is stored per nonce: a nonce is ours if its MAC checks, and its age
 * comes from the time stamp inside it. The secret is random per boot unless
 * given, so a restart makes every old nonce fail (the phone is re-challenged).
 * The salt makes two challenges in the same millisecond differ, so the
 * nonce-count tracker never confuses two clients.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const TS_LEN = 8;
const SALT_LEN = 8;
const MAC_LEN = 16;
const NONCE_LEN = TS_LEN + SALT_LEN + MAC_LEN;

export type NonceCheck = { valid: false } | { valid: true; issuedAt: number };

export class NonceFactory {
  private readonly secret: Buffer;
  private readonly realm: string;

  constructor(options: { realm: string; secret?: Buffer }) {
    this.realm = options.realm;
    this.secret = options.secret ?? randomBytes(32);
  }

  issue(now: number): string {
    const buf = Buffer.alloc(NONCE_LEN);
    buf.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))), 0);
    randomBytes(SALT_LEN).copy(buf, TS_LEN);
    this.mac(buf.subarray(0, TS_LEN + SALT_LEN)).copy(buf, TS_LEN + SALT_LEN);
    return buf.toString('base64url');
  }

  /** Whether we issued this nonce (for this realm), and when. Age is the caller's business. */
  check(nonce: string): NonceCheck {
    if (nonce.length > 64 || !/^[A-Za-z0-9_-]+$/.test(nonce)) return { valid: false };
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_LEN) return { valid: false };
    const expected = this.mac(buf.subarray(0, TS_LEN + SALT_LEN));
    if (!timingSafeEqual(expected, buf.subarray(TS_LEN + SALT_LEN))) return { valid: false };
    return { valid: true, issuedAt: Number(buf.readBigUInt64BE(0)) };
  }

  private mac(data: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(data).update(this.realm).digest().subarray(0, MAC_LEN);
  }
}
