/**
 * The few structured header reads the dialog and UA layers need, on top of
 * the message layer's parsers. Kept in one place so the layers above never
 * hand-parse a header.
 */
import { PgwError } from '../../util/errors.js';
import { formatUri, parseCSeq, parseNameAddr, splitHeaderValues } from '../message/index.js';
import type { CSeq, SipMessage } from '../message/types.js';

/** The tag parameter of a From or To value. */
export function tagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const tag = parseNameAddr(value).params.get('tag');
    return tag === null || tag === undefined || tag === '' ? undefined : tag;
  } catch {
    return undefined;
  }
}

/**
 * Add a tag to a From/To value as written. A tag is a header parameter in both
 * the name-addr and the addr-spec form (RFC 3261 §20: parameters after a bare
 * addr-spec belong to the header), so appending is always right.
 */
export function withTag(value: string, tag: string): string {
  return `${value.trim()};tag=${tag}`;
}

export function callIdOf(message: SipMessage): string {
  const v = message.headers.get('Call-ID');
  if (v === undefined) throw new PgwError('PGW_E_SIP_PARSE', 'no Call-ID');
  return v.trim();
}

export function cseqOf(message: SipMessage): CSeq {
  const v = message.headers.get('CSeq');
  if (v === undefined) throw new PgwError('PGW_E_SIP_PARSE', 'no CSeq');
  return parseCSeq(v);
}

/** Every value of a comma-separable header, in order, across all its lines. */
export function headerValues(message: SipMessage, name: string): string[] {
  const out: string[] = [];
  for (const line of message.headers.getAll(name)) {
    for (const v of splitHeaderValues(line)) if (v.trim() !== '') out.push(v.trim());
  }
  return out;
}

/** The URI of the first Contact, formatted (the remote target, RFC 3261 §12.1.1). */
export function contactUriOf(message: SipMessage): string | undefined {
  const first = headerValues(message, 'Contact')[0];
  if (first === undefined) return undefined;
  try {
    const na = parseNameAddr(first);
    if (na.wildcard) return undefined;
    return formatUri(na.uri);
  } catch {
    return undefined;
  }
}

/** Option tags of Supported/Require (case-insensitive, RFC 3261 §19.2). */
export function optionTags(message: SipMessage, header: 'Supported' | 'Require' | 'Allow' | 'Proxy-Require'): Set<string> {
  return new Set(headerValues(message, header).map((t) => t.toLowerCase()).filter((t) => t !== ''));
}

/** Whether a Route / Record-Route value names a loose router (`;lr`, RFC 3261 §16.12.1.1). */
export function isLooseRoute(routeValue: string): boolean {
  try {
    return parseNameAddr(routeValue).uri.params.has('lr');
  } catch {
    return true;
  }
}

/** The URI inside a Route value, formatted. */
export function routeUri(routeValue: string): string {
  return formatUri(parseNameAddr(routeValue).uri);
}
