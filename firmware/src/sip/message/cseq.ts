/**
 * CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16). The number is a 32-bit
 * unsigned integer (§8.1.1.5): larger values are invalid (RFC 4475 §3.1.2.4
 * scalar02, §3.1.2.5 scalarlg). Leading zeros are fine (`0009`, RFC 4475
 * §3.1.1.1). The method is case-sensitive.
 */
import { PgwError } from '../../util/errors.js';
import { isDigit, isTokenChar, isWsp, skipWsp } from './chars.js';
import type { CSeq } from './types.js';

export const MAX_CSEQ = 0xffffffff;

export function parseCSeq(value: string): CSeq {
  let i = skipWsp(value, 0);
  const d = i;
  while (i < value.length && isDigit(value.charCodeAt(i))) i++;
  const digits = value.slice(d, i);
  if (digits.length === 0) throw new PgwError('PGW_E_SIP_PARSE', 'CSeq has no number', { context: { value } });
  // Leading zeros aside, more than ten digits cannot fit 32 bits.
  const seq = digits.replace(/^0+(?=\d)/, '').length > 10 ? Infinity : Number(digits);
  if (seq > MAX_CSEQ) throw new PgwError('PGW_E_SIP_PARSE', 'CSeq number out of range', { context: { value } });
  if (i >= value.length || !isWsp(value.charCodeAt(i))) {
    throw new PgwError('PGW_E_SIP_PARSE', 'CSeq has no method', { context: { value } });
  }
  i = skipWsp(value, i);
  const m = i;
  while (i < value.length && isTokenChar(value.charCodeAt(i))) i++;
  const method = value.slice(m, i);
  if (method.length === 0 || skipWsp(value, i) !== value.length) {
    throw new PgwError('PGW_E_SIP_PARSE', 'bad CSeq method', { context: { value } });
  }
  return { seq, method };
}

export function formatCSeq(c: CSeq): string {
  return `${c.seq} ${c.method}`;
}
