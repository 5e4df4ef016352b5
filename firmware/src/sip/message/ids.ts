/**
 * Tags, branches and Call-IDs: cryptographically random (RFC 3261 §19.3
 * wants at least 32 random bits for tags and global uniqueness for Call-IDs;
 * §8.1.1.7 wants branches unique across space and time), short, and made of
 * characters legal in token/word (base64url: A-Z a-z 0-9 - _).
 *
 * Random bytes come from a pool refilled 4 KiB at a time: the registrar makes
 * a tag per response and one getrandom call per message would be wasteful.
 */
import { randomFillSync } from 'node:crypto';
import { MAGIC_COOKIE } from './via.js';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

function randomToken(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const s = pool.toString('base64url', offset, offset + bytes);
  offset += bytes;
  return s;
}

/** 48 random bits, 8 characters. */
export function generateTag(): string {
  return randomToken(6);
}

/** `z9hG4bK` + 72 random bits. */
export function generateBranch(): string {
  return MAGIC_COOKIE + randomToken(9);
}

/** 96 random bits, then `@host` (§8.1.1.4 recommends the host part). */
export function generateCallId(host?: string): string {
  const id = randomToken(12);
  return host ? `${id}@${host}` : id;
}
