/**
 * The SIP message model every layer codes against (RFC 3261 §7).
 *
 * Messages keep their header lines in order with values as received, so that a
 * proxy-like B2BUA can forward what it does not understand untouched; the
 * structured views (Via, name-addr, CSeq, URI) are parsed on demand by the
 * helpers in this folder. Bodies are raw bytes: Content-Length counts bytes.
 */
import type { Headers } from './headers.js';

interface SipMessageBase {
  headers: Headers;
  body: Buffer;
}

export interface SipRequest extends SipMessageBase {
  kind: 'request';
  /** Case-sensitive per RFC 3261 §7.1 (INVITE, not invite). */
  method: string;
  /** The Request-URI exactly as it stood on the request line. */
  uri: string;
}

export interface SipResponse extends SipMessageBase {
  kind: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/**
 * A parameter list keeps order; a parameter without a value maps to null (`;lr`).
 * Names are lower-case (parameter names are case-insensitive, §7.3.1, §19.1.4).
 * URI parameter values are unescaped; header parameter values are as written
 * (a quoted-string keeps its quotes: see unquote()).
 */
export type Params = Map<string, string | null>;

/**
 * user, password, parameter and header values are unescaped (`%75ser` is
 * `user`; formatUri escapes again). A tel URI (RFC 3966) has its number in
 * `user` and an empty `host`.
 */
export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  user?: string;
  password?: string;
  /** Host as written; an IPv6 reference keeps its brackets (`[2001:db8::1]`). */
  host: string;
  port?: number;
  params: Params;
  headers: Map<string, string>;
}

/** name-addr / addr-spec with header parameters: From, To, Contact, Route, P-Asserted-Identity. */
export interface NameAddr {
  /** Unquoted, escapes removed (`"A \"B\""` → `A "B"`); token display names as written. */
  displayName?: string;
  uri: SipUri;
  params: Params;
  /** Contact: `*` (RFC 3261 §10.2.2). uri is then a placeholder. */
  wildcard?: boolean;
}

export interface Via {
  /** `SIP/2.0/UDP` → 'UDP'. Upper-cased. */
  transport: string;
  host: string;
  port?: number;
  params: Params;
}

export interface CSeq {
  seq: number;
  method: string;
}
