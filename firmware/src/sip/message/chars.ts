/**
 * Character classes of the RFC 3261 §25.1 grammar as lookup tables, and the
 * small scanning helpers every structured parser in this folder shares.
 *
 * Parsers here scan strings by index with these tables instead of regular
 * expressions: the message parser is on the registrar's hot path, and a
 * hand-written scanner has no backtracking to be attacked with.
 */

const ALPHANUM = 1 << 0;
/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
const TOKEN = 1 << 1;
/** unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
const UNRESERVED = 1 << 2;
/** user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" */
const USER_UNRESERVED = 1 << 3;
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
const PASSWORD_EXTRA = 1 << 4;
/** param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$" */
const PARAM_UNRESERVED = 1 << 5;
/** hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$" */
const HNV_UNRESERVED = 1 << 6;
/** word = alphanum and the word punctuation of §25.1 (Call-ID). */
const WORD = 1 << 7;

const TABLE = new Uint8Array(128);

function mark(chars: string, flag: number): void {
  for (let i = 0; i < chars.length; i++) TABLE[chars.charCodeAt(i)]! |= flag;
}

(function build(): void {
  let alnum = '';
  for (let c = 0x30; c <= 0x39; c++) alnum += String.fromCharCode(c);
  for (let c = 0x41; c <= 0x5a; c++) alnum += String.fromCharCode(c);
  for (let c = 0x61; c <= 0x7a; c++) alnum += String.fromCharCode(c);
  mark(alnum, ALPHANUM | TOKEN | UNRESERVED | WORD);
  mark("-.!%*_+`'~", TOKEN);
  mark("-_.!~*'()", UNRESERVED);
  mark('&=+$,;?/', USER_UNRESERVED);
  mark('&=+$,', PASSWORD_EXTRA);
  mark('[]/:&+$', PARAM_UNRESERVED);
  mark('[]/?:+$', HNV_UNRESERVED);
  mark('-.!%*_+`\'~()<>:\\"/[]?{}', WORD);
})();

function has(code: number, flag: number): boolean {
  return code < 128 && (TABLE[code]! & flag) !== 0;
}

export const isAlphanum = (c: number): boolean => has(c, ALPHANUM);
export const isTokenChar = (c: number): boolean => has(c, TOKEN);
export const isUnreserved = (c: number): boolean => has(c, UNRESERVED);
export const isWordChar = (c: number): boolean => has(c, WORD);
export const isUserChar = (c: number): boolean => has(c, UNRESERVED | USER_UNRESERVED);
export const isPasswordChar = (c: number): boolean => has(c, UNRESERVED | PASSWORD_EXTRA);
export const isParamChar = (c: number): boolean => has(c, UNRESERVED | PARAM_UNRESERVED);
export const isHeaderNameValueChar = (c: number): boolean => has(c, UNRESERVED | HNV_UNRESERVED);
export const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
export const isHexDigit = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
/** SP or HTAB: the only whitespace SIP knows inside a line (LWS once folding is undone). */
export const isWsp = (c: number): boolean => c === 0x20 || c === 0x09;

/** A non-empty string of token characters (method names, parameter names, transports). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** Index of the first non-SP/HTAB character at or after i. */
export function skipWsp(s: string, i: number): number {
  while (i < s.length && isWsp(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Trim SP and HTAB only. String.prototype.trim() would also eat U+FEFF and
 * other Unicode spaces, which are part of a header value (RFC 4475 §3.1.1.2
 * sends a value that starts with a byte-order mark).
 */
export function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWsp(s.charCodeAt(a))) a++;
  while (b > a && isWsp(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * Scan a quoted-string starting at the opening DQUOTE at index i (RFC 3261
 * §25.1: quoted-pair = "\" any octet but CR/LF). Returns the index just past
 * the closing DQUOTE, or -1 when it is not terminated.
 */
export function scanQuoted(s: string, i: number): number {
  let j = i + 1;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 0x5c) j += 2;
    else if (c === 0x22) return j + 1;
    else j++;
  }
  return -1;
}

/** `"a \"b\""` → `a "b"`. A string that is not quoted comes back unchanged. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 0x22 || s.charCodeAt(s.length - 1) !== 0x22) return s;
  const inner = s.slice(1, -1);
  if (inner.indexOf('\\') < 0) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === '\\' && i + 1 < inner.length) {
      out += inner[i + 1];
      i++;
    } else out += c;
  }
  return out;
}

/**
 * `a "b"` → `"a \"b\""`: a quoted-string with `"` and `\` escaped. CR and LF
 * cannot be carried by a quoted-pair (§25.1) and become SP.
 */
export function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    let c = s[i]!;
    if (c === '"' || c === '\\') out += '\\';
    else if (c === '\r' || c === '\n') c = ' ';
    out += c;
  }
  return out + '"';
}
