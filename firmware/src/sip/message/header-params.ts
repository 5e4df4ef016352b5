/**
 * Header parameters: `*( SEMI generic-param )` after a Via sent-by or a
 * name-addr (RFC 3261 §25.1).
 *
 *   generic-param = token [ EQUAL gen-value ]
 *   gen-value     = token / host / quoted-string
 *   SEMI = SWS ";" SWS     EQUAL = SWS "=" SWS
 *
 * Names are case-insensitive (§7.3.1) and kept in lower case. Values are kept
 * as written, a quoted-string with its quotes (use unquote() to read one), so
 * that formatting gives back the same value. A parameter without a value maps
 * to null (`;lr`), one with an empty value is an error (`;tag=`), as is an
 * empty parameter (`;;`, RFC 4475 §3.1.2.1 badinv01).
 */
import { PgwError } from '../../util/errors.js';
import { isTokenChar, scanQuoted, skipWsp } from './chars.js';
import type { Params } from './types.js';

/** gen-value characters: token plus the `:`, `[` and `]` of an IPv6 host (`received=2001:db8::1`). */
const isGenValueChar = (c: number): boolean => isTokenChar(c) || c === 0x3a || c === 0x5b || c === 0x5d;

function fail(message: string, value: string): never {
  throw new PgwError('PGW_E_SIP_PARSE', message, { context: { value: value.length > 200 ? value.slice(0, 200) + '…' : value } });
}

/**
 * Parse parameters from index i to the end of s (which must be only
 * parameters and LWS). Throws PgwError('PGW_E_SIP_PARSE').
 */
export function parseHeaderParams(s: string, i: number, params: Params = new Map()): Params {
  i = skipWsp(s, i);
  while (i < s.length) {
    if (s.charCodeAt(i) !== 0x3b) fail('expected ; before a parameter', s);
    i = skipWsp(s, i + 1);
    const n = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === n) fail('empty parameter', s);
    const name = s.slice(n, i).toLowerCase();
    i = skipWsp(s, i);
    let value: string | null = null;
    if (i < s.length && s.charCodeAt(i) === 0x3d) {
      i = skipWsp(s, i + 1);
      if (s.charCodeAt(i) === 0x22) {
        const end = scanQuoted(s, i);
        if (end < 0) fail('unterminated quoted parameter value', s);
        value = s.slice(i, end);
        i = end;
      } else {
        const v = i;
        while (i < s.length && isGenValueChar(s.charCodeAt(i))) i++;
        if (i === v) fail('empty parameter value', s);
        value = s.slice(v, i);
      }
      i = skipWsp(s, i);
    }
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}

/** `;name=value;flag` — values as stored (quoted-strings keep their quotes). */
export function formatHeaderParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? ';' + name : ';' + name + '=' + value;
  return out;
}

