/**
 * SIP, SIPS (RFC 3261 §19.1, grammar §25.1) and tel (RFC 3966) URIs.
 *
 *   sip:user:password@host:port;uri-parameters?headers
 *
 * The model (SipUri in types.ts) holds every component unescaped; formatUri
 * escapes again what each component's grammar does not allow raw, so
 * parse → format gives an equivalent URI (§19.1.4), not always the same
 * spelling. Parameter names are case-insensitive (§19.1.4) and are kept in
 * lower case; values keep their case. A tel URI carries its number in `user`
 * and has an empty `host`.
 */
import { isIPv6 } from 'node:net';
import { PgwError } from '../../util/errors.js';
import {
  isAlphanum,
  isDigit,
  isHeaderNameValueChar,
  isHexDigit,
  isParamChar,
  isPasswordChar,
  isUserChar,
} from './chars.js';
import { escapePercent, unescapePercent } from './escape.js';
import type { Params, SipUri } from './types.js';

function fail(message: string, uri: string): never {
  throw new PgwError('PGW_E_SIP_PARSE', message, { context: { uri: uri.length > 200 ? uri.slice(0, 200) + '…' : uri } });
}

/**
 * Characters that may stand raw in a user part: user chars and the `%` of an
 * escape. `#` is tolerated too: desk phones send feature codes like `*97#`
 * unescaped, and it cannot be mistaken for a delimiter (formatUri escapes it).
 */
const isUserRaw = (c: number): boolean => isUserChar(c) || c === 0x25 || c === 0x23;
const isPasswordRaw = (c: number): boolean => isPasswordChar(c) || c === 0x25;
const isParamRaw = (c: number): boolean => isParamChar(c) || c === 0x25;
const isHeaderRaw = (c: number): boolean => isHeaderNameValueChar(c) || c === 0x25;
/** hostname = alphanum, "-" and "."; "_" is tolerated (seen in the wild, never ambiguous). */
const isHostChar = (c: number): boolean => isAlphanum(c) || c === 0x2d || c === 0x2e || c === 0x5f;
/** RFC 3966 telephone-subscriber characters (global or local number, visual separators). */
const isTelChar = (c: number): boolean =>
  isHexDigit(c) || c === 0x2a || c === 0x23 || c === 0x2b || c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29;

function checkRaw(s: string, ok: (c: number) => boolean): boolean {
  for (let i = 0; i < s.length; i++) if (!ok(s.charCodeAt(i))) return false;
  return true;
}

function decode(raw: string, what: string, uri: string): string {
  const v = unescapePercent(raw);
  if (v === undefined) fail(`bad escape in URI ${what}`, uri);
  return v;
}

/** The scheme of a URI in lower case (`SIP:x` → `sip`), or undefined when there is none. */
export function uriScheme(s: string): string | undefined {
  const colon = s.indexOf(':');
  if (colon <= 0) return undefined;
  const c0 = s.charCodeAt(0);
  if (!((c0 >= 0x41 && c0 <= 0x5a) || (c0 >= 0x61 && c0 <= 0x7a))) return undefined;
  for (let i = 1; i < colon; i++) {
    const c = s.charCodeAt(i);
    if (!(isAlphanum(c) || c === 0x2b || c === 0x2d || c === 0x2e)) return undefined;
  }
  return s.slice(0, colon).toLowerCase();
}

/**
 * RFC 3261 absoluteURI, loosely: a scheme, a colon, and at least one
 * character with no whitespace, controls, `<`, `>` or `"`. Enough to accept
 * URIs of schemes we do not parse (RFC 4475 §3.3.2 unkscm, §3.3.4 unksm2)
 * and to reject a bracketed Request-URI (§3.1.2.7 ltgtruri).
 */
export function isAbsoluteUri(s: string): boolean {
  const scheme = uriScheme(s);
  if (scheme === undefined || s.length <= scheme.length + 1) return false;
  for (let i = scheme.length + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22) return false;
  }
  return true;
}

function parseUriParams(s: string, i: number, end: number, params: Params, uri: string): number {
  // uri-parameters = *( ";" uri-parameter ); uri-parameter = pname [ "=" pvalue ]
  while (i < end && s.charCodeAt(i) === 0x3b) {
    i++;
    let j = i;
    while (j < end && s.charCodeAt(j) !== 0x3b && s.charCodeAt(j) !== 0x3f) j++;
    const item = s.slice(i, j);
    const eq = item.indexOf('=');
    const rawName = eq < 0 ? item : item.slice(0, eq);
    const rawValue = eq < 0 ? undefined : item.slice(eq + 1);
    if (rawName.length === 0 || !checkRaw(rawName, isParamRaw)) fail('bad URI parameter name', uri);
    if (rawValue !== undefined && (rawValue.length === 0 || !checkRaw(rawValue, isParamRaw))) {
      fail('bad URI parameter value', uri);
    }
    const name = decode(rawName, 'parameter', uri).toLowerCase();
    if (!params.has(name)) params.set(name, rawValue === undefined ? null : decode(rawValue, 'parameter', uri));
    i = j;
  }
  return i;
}

function parseUriHeaders(s: string, i: number, headers: Map<string, string>, uri: string): number {
  // headers = "?" header *( "&" header ); header = hname "=" hvalue
  if (i >= s.length || s.charCodeAt(i) !== 0x3f) return i;
  i++;
  for (;;) {
    let j = i;
    while (j < s.length && s.charCodeAt(j) !== 0x26) j++;
    const item = s.slice(i, j);
    const eq = item.indexOf('=');
    if (eq <= 0) fail('bad URI header', uri);
    const rawName = item.slice(0, eq);
    const rawValue = item.slice(eq + 1);
    if (!checkRaw(rawName, isHeaderRaw) || !checkRaw(rawValue, isHeaderRaw)) fail('bad URI header', uri);
    const name = decode(rawName, 'header', uri);
    if (!headers.has(name)) headers.set(name, decode(rawValue, 'header', uri));
    i = j;
    if (i >= s.length) return i;
    i++; // "&"
  }
}

function parseSipUri(s: string, scheme: 'sip' | 'sips', start: number): SipUri {
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };
  let i = start;
  // userinfo: `@` cannot appear unescaped anywhere else in a SIP URI, so the
  // first one ends it; the user part may itself hold `;`, `?` and `/`
  // (RFC 4475 §3.1.1.2 intmeth, §3.1.1.9 semiuri).
  const at = s.indexOf('@', i);
  if (at >= 0) {
    if (s.indexOf('@', at + 1) >= 0) fail('more than one @ in URI', s);
    const userinfo = s.slice(i, at);
    const colon = userinfo.indexOf(':');
    const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (rawUser.length === 0 || !checkRaw(rawUser, isUserRaw)) fail('bad URI user', s);
    uri.user = decode(rawUser, 'user', s);
    if (colon >= 0) {
      const rawPassword = userinfo.slice(colon + 1);
      if (!checkRaw(rawPassword, isPasswordRaw)) fail('bad URI password', s);
      uri.password = decode(rawPassword, 'password', s);
    }
    i = at + 1;
  }
  // host = hostname / IPv4address / IPv6reference
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0 || !isIPv6(s.slice(i + 1, close))) fail('bad IPv6 reference in URI', s);
    uri.host = s.slice(i, close + 1);
    i = close + 1;
  } else {
    const h = i;
    while (i < s.length && isHostChar(s.charCodeAt(i))) i++;
    if (i === h) fail('missing URI host', s);
    uri.host = s.slice(h, i);
  }
  if (s.charCodeAt(i) === 0x3a) {
    const p = ++i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (i === p || i - p > 5) fail('bad URI port', s);
    const port = Number(s.slice(p, i));
    if (port > 65535) fail('bad URI port', s);
    uri.port = port;
  }
  let paramsEnd = s.indexOf('?', i);
  if (paramsEnd < 0) paramsEnd = s.length;
  i = parseUriParams(s, i, paramsEnd, uri.params, s);
  i = parseUriHeaders(s, i, uri.headers, s);
  if (i !== s.length) fail('unexpected characters in URI', s);
  return uri;
}

function parseTelUri(s: string, start: number): SipUri {
  const uri: SipUri = { scheme: 'tel', host: '', params: new Map(), headers: new Map() };
  let i = start;
  while (i < s.length && isTelChar(s.charCodeAt(i))) i++;
  if (i === start) fail('bad tel number', s);
  uri.user = s.slice(start, i);
  i = parseUriParams(s, i, s.length, uri.params, s);
  if (i !== s.length) fail('unexpected characters in tel URI', s);
  return uri;
}

/** Parse a sip, sips or tel URI. Throws PgwError('PGW_E_SIP_PARSE') on anything else. */
export function parseUri(s: string): SipUri {
  const scheme = uriScheme(s);
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(s, scheme, scheme.length + 1);
  if (scheme === 'tel') return parseTelUri(s, 4);
  return fail(scheme === undefined ? 'not a URI' : `unsupported URI scheme ${scheme}`, s);
}

function formatParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) {
    out += ';' + escapePercent(name, isParamChar);
    if (value !== null) out += '=' + escapePercent(value, isParamChar);
  }
  return out;
}

/** The URI as text, escaping what each component does not allow raw. */
export function formatUri(u: SipUri): string {
  if (u.scheme === 'tel') return 'tel:' + (u.user ?? '') + formatParams(u.params);
  let out = u.scheme + ':';
  if (u.user !== undefined) {
    out += escapePercent(u.user, isUserChar);
    if (u.password !== undefined) out += ':' + escapePercent(u.password, isPasswordChar);
    out += '@';
  }
  out += u.host;
  if (u.port !== undefined) out += ':' + u.port;
  out += formatParams(u.params);
  let sep = '?';
  for (const [name, value] of u.headers) {
    out += sep + escapePercent(name, isHeaderNameValueChar) + '=' + escapePercent(value, isHeaderNameValueChar);
    sep = '&';
  }
  return out;
}

/** `2001:DB8:0::1` → `2001:db8:0:0:0:0:0:1`, so that equal addresses compare equal. */
function normalizeIpv6(addr: string): string {
  let head = addr.toLowerCase();
  let tailV4: string[] = [];
  const lastColon = head.lastIndexOf(':');
  const last = head.slice(lastColon + 1);
  if (last.includes('.')) {
    const o = last.split('.').map(Number);
    tailV4 = [((o[0]! << 8) | o[1]!).toString(16), ((o[2]! << 8) | o[3]!).toString(16)];
    head = head.slice(0, lastColon + 1) + '0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  if (tailV4.length) (right === undefined ? l : r).pop();
  const fill = 8 - l.length - r.length - tailV4.length;
  const groups = [...l, ...Array<string>(right === undefined ? 0 : fill).fill('0'), ...r, ...tailV4];
  return groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

function hostKey(host: string): string {
  if (host.startsWith('[') && host.endsWith(']')) return '[' + normalizeIpv6(host.slice(1, -1)) + ']';
  return host.toLowerCase();
}

/**
 * uri-parameters that, present in only one URI, make two URIs differ
 * (§19.1.4; transport per its "can resolve to different transports" example).
 */
const MUST_MATCH = new Set(['user', 'ttl', 'method', 'maddr', 'transport']);

function paramsEqual(a: Params, b: Params, strict: boolean): boolean {
  for (const [name, va] of a) {
    if (!b.has(name)) {
      if (strict || MUST_MATCH.has(name)) return false;
      continue;
    }
    const vb = b.get(name)!;
    if (va === null || vb === null ? va !== vb : va.toLowerCase() !== vb.toLowerCase()) return false;
  }
  for (const name of b.keys()) if (!a.has(name) && (strict || MUST_MATCH.has(name))) return false;
  return true;
}

function headersEqual(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  const lb = new Map<string, string>();
  for (const [k, v] of b) lb.set(k.toLowerCase(), v);
  for (const [k, v] of a) if (lb.get(k.toLowerCase()) !== v) return false;
  return true;
}

/** A tel number without visual separators (RFC 3966 §4). */
function telKey(n: string | undefined): string {
  return (n ?? '').replace(/[-.()]/g, '').toLowerCase();
}

/**
 * URI equality per RFC 3261 §19.1.4: user and password case-sensitive after
 * unescaping, host case-insensitive, a missing port differs from an explicit
 * default one, parameters present in both must match (case-insensitively),
 * user/ttl/method/maddr/transport present in only one make them differ, other
 * parameters present in only one are ignored, and URI headers must all match.
 * tel URIs (RFC 3966 §4) compare numbers without visual separators and all
 * parameters.
 */
export function uriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (a.scheme === 'tel') return telKey(a.user) === telKey(b.user) && paramsEqual(a.params, b.params, true);
  return (
    a.user === b.user &&
    a.password === b.password &&
    a.port === b.port &&
    hostKey(a.host) === hostKey(b.host) &&
    paramsEqual(a.params, b.params, false) &&
    headersEqual(a.headers, b.headers)
  );
}
