/**
 * Via (RFC 3261 §20.42, §25.1), with the RFC 3581 rport parameter.
 *
 *   via-parm    = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by     = host [ COLON port ]
 *
 * SLASH and COLON allow LWS around them (`SIP  /   2.0 /UDP`, RFC 4475
 * §3.1.1.1). Several Via values may share one line, separated by commas
 * (splitHeaderValues). Transports are upper-cased; unknown ones are kept
 * (RFC 4475 §3.1.1.10).
 */
import { isIPv6 } from 'node:net';
import { PgwError } from '../../util/errors.js';
import { isAlphanum, isDigit, isTokenChar, skipWsp } from './chars.js';
import { formatHeaderParams, parseHeaderParams } from './header-params.js';
import { splitHeaderValues } from './header-values.js';
import type { SipMessage, Via } from './types.js';

export { splitHeaderValues } from './header-values.js';
export { parseCSeq, formatCSeq } from './cseq.js';

/** RFC 3261 §8.1.1.7: branches of RFC 3261 transactions start with this. */
export const MAGIC_COOKIE = 'z9hG4bK';

function fail(message: string, value: string): never {
  throw new PgwError('PGW_E_SIP_PARSE', message, { context: { value: value.length > 200 ? value.slice(0, 200) + '…' : value } });
}

function readToken(s: string, i: number, what: string): [string, number] {
  const t = i;
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  if (i === t) fail(`bad Via ${what}`, s);
  return [s.slice(t, i), i];
}

function expect(s: string, i: number, code: number, what: string): number {
  i = skipWsp(s, i);
  if (s.charCodeAt(i) !== code) fail(`bad Via ${what}`, s);
  return skipWsp(s, i + 1);
}

const isHostChar = (c: number): boolean => isAlphanum(c) || c === 0x2d || c === 0x2e || c === 0x5f;

/** Parse one Via value (not a comma list). Throws PgwError('PGW_E_SIP_PARSE'). */
export function parseVia(value: string): Via {
  const s = value;
  let i = skipWsp(s, 0);
  const [name, afterName] = readToken(s, i, 'protocol name');
  i = expect(s, afterName, 0x2f, 'sent-protocol');
  // The version is not checked here: the start line's version is what a 505 is about.
  [, i] = readToken(s, i, 'protocol version');
  i = expect(s, i, 0x2f, 'sent-protocol');
  const [transport, afterTransport] = readToken(s, i, 'transport');
  i = afterTransport;
  if (name.toUpperCase() !== 'SIP') fail('Via protocol is not SIP', s);
  const h = skipWsp(s, i);
  if (h === i) fail('Via needs LWS before sent-by', s);
  i = h;
  let host: string;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0 || !isIPv6(s.slice(i + 1, close))) fail('bad IPv6 reference in Via', s);
    host = s.slice(i, close + 1);
    i = close + 1;
  } else {
    while (i < s.length && isHostChar(s.charCodeAt(i))) i++;
    if (i === h) fail('missing Via host', s);
    host = s.slice(h, i);
  }
  const via: Via = { transport: transport.toUpperCase(), host, params: new Map() };
  const c = skipWsp(s, i);
  if (s.charCodeAt(c) === 0x3a) {
    i = skipWsp(s, c + 1);
    const p = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    const port = Number(s.slice(p, i));
    if (i === p || i - p > 5 || port > 65535) fail('bad Via port', s);
    via.port = port;
  }
  parseHeaderParams(s, i, via.params);
  return via;
}

/** `SIP/2.0/UDP host:port;params` */
export function formatVia(v: Via): string {
  return `SIP/2.0/${v.transport} ${v.host}${v.port === undefined ? '' : ':' + v.port}${formatHeaderParams(v.params)}`;
}

/** Every Via value of the message, top first, over all Via lines and comma lists. */
export function getVias(msg: SipMessage): Via[] {
  const out: Via[] = [];
  for (const line of msg.headers.getAll('Via')) for (const v of splitHeaderValues(line)) out.push(parseVia(v));
  return out;
}

/** The top Via (the first value of the first Via line), or undefined when there is none. */
export function topVia(msg: SipMessage): Via | undefined {
  const line = msg.headers.get('Via');
  if (line === undefined) return undefined;
  return parseVia(splitHeaderValues(line)[0]!);
}

export function viaBranch(v: Via): string | undefined {
  return v.params.get('branch') ?? undefined;
}

export function viaReceived(v: Via): string | undefined {
  return v.params.get('received') ?? undefined;
}

/**
 * RFC 3581 rport: undefined when absent, null when present without a value
 * (a request asking for it, §3), the port number when filled in (a response, §4).
 */
export function viaRport(v: Via): number | null | undefined {
  if (!v.params.has('rport')) return undefined;
  const raw = v.params.get('rport');
  if (raw === null || raw === undefined) return null;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : null;
}

/**
 * True for an RFC 3261 branch: the magic cookie and something after it.
 * A bare `z9hG4bK` (RFC 4475 §3.2.1 badbranch) is not one.
 */
export function isRfc3261Branch(branch: string | undefined): boolean {
  return branch !== undefined && branch.length > MAGIC_COOKIE.length && branch.startsWith(MAGIC_COOKIE);
}
