/**
 * Comma-separated header values (RFC 3261 §7.3.1): `Via: a, b` is the same as
 * two Via lines. A comma inside a quoted-string or between `<` and `>` is part
 * of a value (`"Bell, Alexander" <sip:x@y>`, `<sip:a@b?x=1,2>`).
 *
 * Only for headers whose grammar is a comma list (Via, Contact, Route,
 * Record-Route, Allow, Supported, Require, Accept…): the auth headers and Date
 * contain commas that are not list separators.
 */
import { trimWsp } from './chars.js';

/**
 * Split one header value at its top-level commas. Values are trimmed of
 * SP/HTAB; empty items are kept (`a,,b` → `['a', '', 'b']`) so that a caller
 * can tell they were there.
 */
export function splitHeaderValues(value: string): string[] {
  // The common case has no comma at all.
  if (value.indexOf(',') < 0) return [trimWsp(value)];
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  let angle = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuotes) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuotes = false;
    } else if (c === 0x22) inQuotes = true;
    else if (c === 0x3c) angle++;
    else if (c === 0x3e) angle = angle > 0 ? angle - 1 : 0;
    else if (c === 0x2c && angle === 0) {
      out.push(trimWsp(value.slice(start, i)));
      start = i + 1;
    }
  }
  out.push(trimWsp(value.slice(start)));
  return out;
}
