/**
 * The message parser (RFC 3261 §7, grammar §25). One pass over the bytes:
 *
 *   skip leading CRLFs (§7.5) → find the blank line → decode the header block
 *   as UTF-8 → split lines, undo folding (§7.3.1) → start line → header fields
 *   → check the mandatory headers → frame the body by Content-Length (§18.3)
 *
 * It never throws: bad input is `{ ok: false }`. When the start line and some
 * headers could be read, the failure carries them (`partial`) with the status
 * the RFC recommends, so that the layer above can answer a bad request with a
 * 400 (§8.2, §16.3; 505 for a SIP version it does not speak, §8.2.2.1 and RFC
 * 4475 §3.1.2.16) instead of dropping it. A bad response has no status: it is
 * dropped.
 *
 * Checked here, because no layer above can work without them (§8.1.1): Via
 * (every value), From, To, Call-ID and CSeq, each exactly once (RFC 4475
 * §3.3.8 multi01), CSeq method equal to the request method (§8.2, RFC 4475
 * §3.1.2.17), Max-Forwards when present, Content-Length. A request without
 * Max-Forwards is accepted: RFC 3261 §16.3 step 3 lets it pass and RFC 4475
 * §3.4.1 (inv2543) asks elements to keep RFC 2543 peers working.
 *
 * Semantic checks that need a policy (URI schemes, Require, Contact syntax)
 * are in validate.ts.
 *
 * Framing (§18.3): the body is Content-Length bytes; octets after it are
 * discarded (RFC 4475 §3.1.1.8 dblreq); more than the data holds is an error
 * (§3.1.2.2 clerr); without Content-Length the body is the rest of the data,
 * which is right for a datagram. Stream transports frame by Content-Length
 * before calling this (transport/stream-framer.ts), so the rule holds there too.
 */
import { Headers } from './headers.js';
import { isDigit, isToken, isWordChar, isWsp, trimWsp } from './chars.js';
import { parseCSeq } from './cseq.js';
import { splitHeaderValues } from './header-values.js';
import { isKnownMethod } from './methods.js';
import { splitNameAddr } from './name-addr.js';
import { isAbsoluteUri, parseUri, uriScheme } from './uri.js';
import { parseVia } from './via.js';
import type { SipMessage } from './types.js';

/** What could be read of a message that failed to parse. */
export interface PartialMessage {
  isRequest: boolean;
  /** The request method, when the start line had a readable one. */
  method?: string;
  /** Every header line that could be read (canonical names, unfolded values). */
  headers: Headers;
}

export interface ParseFailure {
  ok: false;
  error: string;
  partial?: PartialMessage;
  /**
   * For a request: the response the RFC recommends (400; 505 for another SIP
   * version; 501 for an unknown method whose CSeq disagrees, RFC 4475
   * §3.1.2.18). Whether one can be sent depends on the headers in `partial`
   * (§8.2.6 needs Via, From, To, Call-ID, CSeq). Absent for responses.
   */
  status?: number;
}

export type ParseResult = { ok: true; message: SipMessage } | ParseFailure;

/** The largest datagram (IPv4 UDP payload limit). */
export const MAX_DATAGRAM_SIZE = 65535;

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');
const EMPTY: Buffer = Buffer.alloc(0);

type StartLine =
  | { kind: 'request'; method: string; uri: string }
  | { kind: 'response'; status: number; reason: string };

/** An error found while parsing, with the response status a request deserves. */
class Bad {
  constructor(
    readonly error: string,
    readonly status = 400,
  ) {}
}

export function parseMessage(data: Buffer): ParseResult {
  try {
    return parse(data);
  } catch (e) {
    // Defence in depth: the scanners below report errors as values, but a
    // parser on the network edge must never take the process down.
    return { ok: false, error: `parser fault: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function parse(data: Buffer): ParseResult {
  let start = 0;
  while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) start++;
  if (start >= data.length) return { ok: false, error: 'no message (only line ends)' };

  // The header block ends at the first blank line. Bare-LF line ends are
  // tolerated; "\r\n\r\n" contains no "\n\n", so the earlier of the two wins.
  let headEnd = data.indexOf(CRLFCRLF, start);
  let bodyStart = headEnd + 4;
  const lf = data.subarray(start, headEnd < 0 ? data.length : headEnd).indexOf(LFLF);
  if (lf >= 0) {
    headEnd = start + lf;
    bodyStart = headEnd + 2;
  }
  let truncated = false;
  if (headEnd < 0) {
    // No blank line. A datagram whose last header line is complete is taken
    // as having no body (a common omission); one cut inside a line is not.
    headEnd = data.length;
    bodyStart = data.length;
    truncated = data[data.length - 1] !== 0x0a;
  }

  const text = data.toString('utf8', start, headEnd);
  const lines = splitLines(text);
  const first = readStartLine(lines[0] ?? '');
  const isRequest = !(first instanceof Bad ? isStatusLine(lines[0] ?? '') : first.kind === 'response');
  const method = first instanceof Bad ? requestMethodOf(lines[0] ?? '') : first.kind === 'request' ? first.method : undefined;

  const headers = new Headers();
  const headerError = readHeaders(lines, headers);

  const fault =
    (first instanceof Bad ? first : undefined) ??
    (truncated ? new Bad('message truncated inside the header block') : undefined) ??
    // A CR that does not end a line could be read as a line end by another
    // element: a way to smuggle header lines past it. Refuse it.
    (hasBareCr(text) ? new Bad('bare CR in the header block') : undefined) ??
    headerError ??
    checkMandatory(headers, first instanceof Bad ? undefined : first);
  let body: Buffer = EMPTY;
  let framing: Bad | undefined;
  if (fault === undefined) {
    const framed = frameBody(headers, data, bodyStart);
    if (framed instanceof Bad) framing = framed;
    else body = framed;
  }
  const bad = fault ?? framing;
  if (bad !== undefined || first instanceof Bad) {
    const b = bad ?? new Bad('bad start line');
    const partial: PartialMessage = { isRequest, headers };
    if (method !== undefined) partial.method = method;
    const failure: ParseFailure = { ok: false, error: b.error, partial };
    if (isRequest) failure.status = b.status;
    return failure;
  }
  if (first.kind === 'request') return { ok: true, message: { kind: 'request', method: first.method, uri: first.uri, headers, body } };
  return { ok: true, message: { kind: 'response', status: first.status, reason: first.reason, headers, body } };
}

function splitLines(text: string): string[] {
  const lines: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const end = nl > pos && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
    lines.push(text.slice(pos, end));
    pos = nl + 1;
  }
  return lines;
}

function hasBareCr(text: string): boolean {
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) {
    // The header block may end in the CR of a "\r\n\n" terminator.
    if (i + 1 < text.length && text.charCodeAt(i + 1) !== 0x0a) return true;
  }
  return false;
}

/** Split at runs of SP/HTAB, ignoring leading and trailing ones. */
function words(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && isWsp(line.charCodeAt(i))) i++;
    if (i >= line.length) break;
    const w = i;
    while (i < line.length && !isWsp(line.charCodeAt(i))) i++;
    out.push(line.slice(w, i));
  }
  return out;
}

/** A status line starts with the SIP version, which is case-insensitive (§7.1); a method cannot contain `/`. */
function isStatusLine(line: string): boolean {
  return line.length >= 4 && line.slice(0, 4).toUpperCase() === 'SIP/';
}

function requestMethodOf(line: string): string | undefined {
  if (isStatusLine(line)) return undefined;
  const w = words(line)[0];
  return w !== undefined && isToken(w) ? w : undefined;
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; case-insensitive (§7.1). */
function checkVersion(v: string): Bad | undefined {
  const up = v.toUpperCase();
  if (up === 'SIP/2.0') return undefined;
  const dot = up.indexOf('.');
  const well =
    up.startsWith('SIP/') &&
    dot > 4 &&
    dot < up.length - 1 &&
    [...up.slice(4, dot)].every((c) => isDigit(c.charCodeAt(0))) &&
    [...up.slice(dot + 1)].every((c) => isDigit(c.charCodeAt(0)));
  return well ? new Bad(`unsupported SIP version ${v}`, 505) : new Bad(`bad SIP version ${v}`);
}

function readStartLine(line: string): StartLine | Bad {
  if (isStatusLine(line)) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase. The reason may
    // be empty (RFC 4475 §3.1.1.13; its SP is tolerated when missing) and any
    // UTF-8 (§3.1.1.12).
    const sp = line.indexOf(' ');
    if (sp < 0) return new Bad('bad status line');
    const version = checkVersion(line.slice(0, sp));
    if (version) return version;
    let i = sp + 1;
    const c = i;
    while (i < line.length && isDigit(line.charCodeAt(i))) i++;
    // Exactly three digits, 100-699 (§7.2; RFC 4475 §3.1.2.19 bigcode).
    if (i - c !== 3 || (i < line.length && !isWsp(line.charCodeAt(i)))) return new Bad('bad status code');
    const status = Number(line.slice(c, i));
    if (status < 100 || status > 699) return new Bad('status code out of range');
    return { kind: 'response', status, reason: trimWsp(line.slice(i)) };
  }
  // Request-Line = Method SP Request-URI SP SIP-Version. Runs of SP are
  // tolerated (RFC 4475 §3.1.2.9 lwsstart, §3.1.2.10 trws allow this);
  // LWS inside the URI is not (§3.1.2.8 lwsruri): that makes four words.
  const w = words(line);
  if (w.length !== 3) return new Bad('bad request line');
  const [method, uri, version] = w as [string, string, string];
  if (!isToken(method)) return new Bad('bad method');
  const v = checkVersion(version);
  if (v) return v;
  const scheme = uriScheme(uri);
  if (scheme === 'sip' || scheme === 'sips' || scheme === 'tel') {
    try {
      parseUri(uri);
    } catch {
      return new Bad('bad Request-URI');
    }
  } else if (!isAbsoluteUri(uri)) {
    // Includes a Request-URI in <> (RFC 4475 §3.1.2.7 ltgtruri).
    return new Bad('bad Request-URI');
  }
  return { kind: 'request', method, uri };
}

/** Header fields into `headers`, folding undone; the first syntax error, if any. */
function readHeaders(lines: string[], headers: Headers): Bad | undefined {
  let error: Bad | undefined;
  let name: string | undefined;
  let value = '';
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k]!;
    if (line.length > 0 && isWsp(line.charCodeAt(0))) {
      // A continuation line (§7.3.1): its LWS is one SP.
      if (name === undefined) {
        error ??= new Bad('continuation line without a header');
        continue;
      }
      const t = trimWsp(line);
      if (t.length > 0) value = value.length > 0 ? value + ' ' + t : t;
      continue;
    }
    if (name !== undefined) headers.append(name, trimWsp(value));
    name = undefined;
    const colon = line.indexOf(':');
    if (colon < 0) {
      error ??= new Bad('header line without a colon');
      continue;
    }
    // HCOLON = *( SP / HTAB ) ":" SWS: `TO :` and `Via  :` are fine.
    const n = trimWsp(line.slice(0, colon));
    if (!isToken(n)) {
      error ??= new Bad('bad header name');
      continue;
    }
    name = n;
    value = trimWsp(line.slice(colon + 1));
  }
  if (name !== undefined) headers.append(name, trimWsp(value));
  return error;
}

function single(headers: Headers, name: string): string | Bad {
  const all = headers.getAll(name);
  if (all.length === 0) return new Bad(`missing ${name}`);
  if (all.length > 1) return new Bad(`more than one ${name}`);
  return all[0]!;
}

function checkAddress(headers: Headers, name: string): Bad | undefined {
  const value = single(headers, name);
  if (value instanceof Bad) return value;
  try {
    const parts = splitNameAddr(value);
    if (parts.wildcard) return new Bad(`bad ${name}`);
    const scheme = uriScheme(parts.uriText);
    // URIs of other schemes are syntactically fine here (RFC 4475 §3.3.4 unksm2).
    if (scheme === 'sip' || scheme === 'sips' || scheme === 'tel') parseUri(parts.uriText);
    else if (!isAbsoluteUri(parts.uriText)) return new Bad(`bad ${name}`);
  } catch {
    return new Bad(`bad ${name}`);
  }
  return undefined;
}

function checkMandatory(headers: Headers, first: StartLine | undefined): Bad | undefined {
  const vias = headers.getAll('Via');
  if (vias.length === 0) return new Bad('missing Via');
  for (const line of vias) {
    for (const v of splitHeaderValues(line)) {
      try {
        parseVia(v);
      } catch {
        return new Bad('bad Via');
      }
    }
  }
  const from = checkAddress(headers, 'From');
  if (from) return from;
  const to = checkAddress(headers, 'To');
  if (to) return to;
  const callId = single(headers, 'Call-ID');
  if (callId instanceof Bad) return callId;
  if (!isCallId(callId)) return new Bad('bad Call-ID');
  const cseqValue = single(headers, 'CSeq');
  if (cseqValue instanceof Bad) return cseqValue;
  let cseqMethod: string;
  try {
    cseqMethod = parseCSeq(cseqValue).method;
  } catch {
    return new Bad('bad CSeq');
  }
  if (first?.kind === 'request') {
    if (cseqMethod !== first.method) {
      // RFC 4475 §3.1.2.18: for an unknown method 501 is the better answer.
      return new Bad('CSeq method does not match the request method', isKnownMethod(first.method) ? 400 : 501);
    }
    const mf = headers.getAll('Max-Forwards');
    if (mf.length > 1) return new Bad('more than one Max-Forwards');
    if (mf.length === 1 && parseMaxForwards(mf[0]!) === undefined) return new Bad('bad Max-Forwards');
  }
  return undefined;
}

/** callid = word [ "@" word ] */
function isCallId(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!isWordChar(c) && c !== 0x40) return false;
  }
  return true;
}

/** Max-Forwards = 1*DIGIT, 0-255 (§20.22); leading zeros are legal (`0068`, RFC 4475 §3.1.1.1). */
export function parseMaxForwards(v: string): number | undefined {
  if (v.length === 0) return undefined;
  for (let i = 0; i < v.length; i++) if (!isDigit(v.charCodeAt(i))) return undefined;
  let z = 0;
  while (z < v.length - 1 && v.charCodeAt(z) === 0x30) z++;
  if (v.length - z > 3) return undefined;
  const n = Number(v.slice(z));
  return n <= 255 ? n : undefined;
}

/** Content-Length = 1*DIGIT (§20.14); every copy must agree (RFC 4475 §3.3.9 mcl01). */
function contentLength(headers: Headers): number | undefined | Bad {
  let cl: number | undefined;
  for (const v of headers.getAll('Content-Length')) {
    if (v.length === 0 || v.length > 10) return new Bad('bad Content-Length');
    for (let i = 0; i < v.length; i++) if (!isDigit(v.charCodeAt(i))) return new Bad('bad Content-Length');
    const n = Number(v);
    if (cl !== undefined && cl !== n) return new Bad('conflicting Content-Length values');
    cl = n;
  }
  return cl;
}

function frameBody(headers: Headers, data: Buffer, bodyStart: number): Buffer | Bad {
  const cl = contentLength(headers);
  if (cl instanceof Bad) return cl;
  const available = Math.max(0, data.length - bodyStart);
  const length = cl ?? available;
  if (length > available) return new Bad('Content-Length larger than the message');
  if (length === 0) return EMPTY;
  // A copy: the message must not keep the caller's (possibly larger, reused) buffer alive.
  return Buffer.from(data.subarray(bodyStart, bodyStart + length));
}
