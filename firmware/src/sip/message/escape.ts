/**
 * `%` HEX HEX escaping in SIP URIs (RFC 3261 §19.1.2, §25.1 "escaped").
 *
 * The URI model holds components unescaped, so that `sip:%75ser@host` and
 * `sip:user@host` have the same user (§19.1.4) and `sip:null-%00-null@host`
 * keeps its NUL instead of being cut short (RFC 4475 §3.1.1.4). Escapes are
 * decoded exactly once: `v%61lue%25%34%31` is `value%41`, never `valueA`
 * (RFC 4475 §3.1.1.3). The escaped octets are read as UTF-8; a sequence that
 * is not valid UTF-8 is read as Latin-1 rather than rejected (it then comes
 * back re-escaped as UTF-8 when formatted: rare, and still a valid URI).
 */
import { isHexDigit } from './chars.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  if (c <= 0x46) return c - 0x41 + 10;
  return c - 0x61 + 10;
}

/** Decode `%XX` escapes; undefined when an escape is malformed (`%` not followed by two hex digits). */
export function unescapePercent(s: string): string | undefined {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h1 = s.charCodeAt(i + 1);
      const h2 = s.charCodeAt(i + 2);
      if (!isHexDigit(h1) || !isHexDigit(h2)) return undefined;
      const b = (hexValue(h1) << 4) | hexValue(h2);
      if (b >= 0x80) ascii = false;
      bytes.push(b);
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // A raw non-ASCII character (not legal in a URI, tolerated): keep it as UTF-8.
      ascii = false;
      for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
    }
  }
  const buf = Buffer.from(bytes);
  if (ascii) return buf.toString('latin1');
  try {
    return utf8Strict.decode(buf);
  } catch {
    return buf.toString('latin1');
  }
}

const HEX = '0123456789ABCDEF';

/** Escape every character `allowed` rejects, as UTF-8 octets. */
export function escapePercent(s: string, allowed: (c: number) => boolean): string {
  let i = 0;
  while (i < s.length && allowed(s.charCodeAt(i))) i++;
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (allowed(c)) {
      out += s[i];
      continue;
    }
    let bytes: Buffer;
    if (c < 0x80) bytes = Buffer.of(c);
    else {
      // Keep surrogate pairs together.
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes = Buffer.from(ch, 'utf8');
      i += ch.length - 1;
    }
    for (const b of bytes) out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}
