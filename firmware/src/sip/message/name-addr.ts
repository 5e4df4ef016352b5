/**
 * name-addr and addr-spec with header parameters (RFC 3261 §20.10, §25.1):
 * From, To, Contact, Route, Record-Route, Refer-To, P-Asserted-Identity.
 *
 *   "Display Name" <sip:user@host;uri-param>;header-param
 *   Display Name <sip:user@host>;tag=x           display name as tokens
 *   caller<sip:caller@example.com>                no LWS before < (RFC 4475 §3.1.1.6)
 *   sip:user@host;tag=x                           addr-spec: everything after the
 *                                                 URI's first ; is a header param
 *   *                                             Contact wildcard (§10.2.2)
 *
 * §20: in addr-spec form the URI cannot hold a comma, question mark or
 * semicolon; a URI with headers must be in <> (RFC 4475 §3.1.2.13 regbadct).
 * LWS is not allowed inside <> (RFC 4475 §3.1.2.14 badaspec), and a display
 * name that is not quoted must be tokens (RFC 4475 §3.1.2.15 baddn).
 */
import { PgwError } from '../../util/errors.js';
import { isTokenChar, isWsp, quote, scanQuoted, skipWsp, trimWsp, unquote } from './chars.js';
import { formatHeaderParams, parseHeaderParams } from './header-params.js';
import { formatUri, parseUri } from './uri.js';
import type { NameAddr, Params } from './types.js';

/** A name-addr split into its parts, the URI still text (any scheme). */
export interface NameAddrParts {
  displayName?: string;
  uriText: string;
  params: Params;
  wildcard: boolean;
}

function fail(message: string, value: string): never {
  throw new PgwError('PGW_E_SIP_PARSE', message, { context: { value: value.length > 200 ? value.slice(0, 200) + '…' : value } });
}

/**
 * Split a name-addr / addr-spec without parsing the URI, so that URIs of
 * schemes we do not model (RFC 4475 §3.3.4 unksm2: `isbn:`, `http:`) still
 * parse as header values. Throws PgwError('PGW_E_SIP_PARSE').
 */
export function splitNameAddr(value: string): NameAddrParts {
  const s = trimWsp(value);
  if (s === '*') return { uriText: '*', params: new Map(), wildcard: true };
  if (s.length === 0) fail('empty address', value);
  let i = 0;
  let displayName: string | undefined;
  if (s.charCodeAt(0) === 0x22) {
    const end = scanQuoted(s, 0);
    if (end < 0) fail('unterminated quoted display name', value);
    displayName = unquote(s.slice(0, end));
    i = skipWsp(s, end);
    if (s.charCodeAt(i) !== 0x3c) fail('expected < after display name', value);
  } else {
    let j = 0;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (!isTokenChar(c) && !isWsp(c)) break;
      j++;
    }
    if (s.charCodeAt(j) === 0x3c) {
      const tokens = trimWsp(s.slice(0, j));
      if (tokens.length > 0) displayName = tokens;
      i = j;
    }
  }
  if (s.charCodeAt(i) === 0x3c) {
    const close = s.indexOf('>', i + 1);
    if (close < 0) fail('missing > in address', value);
    const uriText = s.slice(i + 1, close);
    if (uriText.length === 0) fail('empty <> in address', value);
    for (let k = 0; k < uriText.length; k++) {
      if (isWsp(uriText.charCodeAt(k))) fail('whitespace inside <> in address', value);
    }
    return { displayName, uriText, params: parseHeaderParams(s, close + 1), wildcard: false };
  }
  // addr-spec: the URI ends at the first semicolon.
  const semi = s.indexOf(';');
  const uriText = trimWsp(semi < 0 ? s : s.slice(0, semi));
  for (let k = 0; k < uriText.length; k++) {
    const c = uriText.charCodeAt(k);
    if (c === 0x2c || c === 0x3f || c === 0x3c || c === 0x3e || c === 0x22 || isWsp(c)) {
      fail('address needs <> (comma, ?, or LWS in addr-spec)', value);
    }
  }
  if (uriText.length === 0) fail('empty address', value);
  return { uriText, params: semi < 0 ? new Map() : parseHeaderParams(s, semi), wildcard: false };
}

/** Placeholder URI of a wildcard Contact. */
function wildcardUri(): NameAddr['uri'] {
  return { scheme: 'sip', host: '', params: new Map(), headers: new Map() };
}

/**
 * Parse a name-addr / addr-spec whose URI is sip, sips or tel, or a `*`
 * wildcard. displayName is unquoted (escapes removed); header parameter
 * values are as written. Throws PgwError('PGW_E_SIP_PARSE').
 */
export function parseNameAddr(value: string): NameAddr {
  const parts = splitNameAddr(value);
  if (parts.wildcard) return { uri: wildcardUri(), params: parts.params, wildcard: true };
  const out: NameAddr = { uri: parseUri(parts.uriText), params: parts.params };
  if (parts.displayName !== undefined) out.displayName = parts.displayName;
  return out;
}

/** Always the name-addr form (`"Name" <uri>;params`), which is safe for every URI. */
export function formatNameAddr(n: NameAddr): string {
  if (n.wildcard) return '*';
  const name = n.displayName ? quote(n.displayName) + ' ' : '';
  return name + '<' + formatUri(n.uri) + '>' + formatHeaderParams(n.params);
}

/** The tag parameter of a From/To value, or undefined (also when the value does not parse). */
export function nameAddrTag(value: string): string | undefined {
  try {
    return splitNameAddr(value).params.get('tag') ?? undefined;
  } catch {
    return undefined;
  }
}
