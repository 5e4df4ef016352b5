/**
 * Checks on a parsed message that need a policy, for the UA/transaction user
 * to call after parseMessage (which already did the syntax and framing). Each
 * gives the response the RFC asks for:
 *
 *   Request-URI scheme not supported            416  §8.2.2.1, RFC 4475 §3.3.2, §3.3.3
 *   headers in the Request-URI                   400  §19.1.1 table, RFC 4475 §3.1.2.11
 *   branch that is only the magic cookie         400  RFC 4475 §3.2.1 (stateless)
 *   REGISTER whose To is not a SIP/SIPS AOR      400  §10.2, RFC 4475 §3.3.4
 *   Contact that does not parse (or misused *)   400  §20.10, §10.3 step 6, RFC 4475 §3.1.2.13
 *   Require naming an unsupported extension      420  §8.2.2.3, RFC 4475 §3.3.5
 *   body of a type the element cannot handle     415  §8.2.3, RFC 4475 §3.3.6
 *
 * and, for responses a UAC receives, the §8.1.3.3 rule (more than one Via:
 * discard, RFC 4475 §3.3.10). Max-Forwards 0 (RFC 4475 §3.3.11) is not an
 * error for a UAS; a proxy-like element reads maxForwards() and answers 483.
 */
import { parseMaxForwards } from './parse.js';
import { splitHeaderValues } from './header-values.js';
import { parseNameAddr, splitNameAddr } from './name-addr.js';
import { parseUri, uriScheme } from './uri.js';
import { MAGIC_COOKIE, parseVia } from './via.js';
import type { SipMessage, SipRequest, SipResponse } from './types.js';

export interface RequestProblem {
  /** The response to send. */
  status: number;
  /** What was wrong, for the log and a Warning/reason if wanted. */
  detail: string;
  /** For 420: the option tags to list in Unsupported. */
  unsupported?: string[];
}

export interface ValidateRequestOptions {
  /** Request-URI schemes this element serves (default sip, sips, tel). */
  schemes?: readonly string[];
  /** Option tags this element supports; any other in Require gets a 420. Default none. */
  supported?: readonly string[];
  /** Body types this element understands (`type/subtype`); checked only when given. */
  contentTypes?: readonly string[];
}

const DEFAULT_SCHEMES = ['sip', 'sips', 'tel'];

/**
 * Null when the request may be processed, else the response it should get.
 * Call it on requests that are not ACK (an ACK is never answered, §17.1.1.3).
 */
export function validateRequest(req: SipRequest, opts: ValidateRequestOptions = {}): RequestProblem | null {
  const scheme = uriScheme(req.uri);
  if (scheme === undefined || !(opts.schemes ?? DEFAULT_SCHEMES).includes(scheme)) {
    return { status: 416, detail: `unsupported Request-URI scheme ${scheme ?? ''}` };
  }
  if (scheme === 'sip' || scheme === 'sips') {
    try {
      if (parseUri(req.uri).headers.size > 0) return { status: 400, detail: 'Request-URI has headers' };
    } catch {
      return { status: 400, detail: 'bad Request-URI' };
    }
  }
  const top = req.headers.get('Via');
  if (top !== undefined) {
    try {
      const branch = parseVia(splitHeaderValues(top)[0]!).params.get('branch');
      if (branch === MAGIC_COOKIE) return { status: 400, detail: 'branch is only the magic cookie' };
    } catch {
      return { status: 400, detail: 'bad Via' };
    }
  }
  if (req.method === 'REGISTER') {
    try {
      const to = uriScheme(splitNameAddr(req.headers.get('To') ?? '').uriText);
      if (to !== 'sip' && to !== 'sips') return { status: 400, detail: 'REGISTER To is not a SIP or SIPS URI' };
    } catch {
      return { status: 400, detail: 'bad To' };
    }
  }
  const contactProblem = checkContacts(req);
  if (contactProblem) return contactProblem;
  if (req.method !== 'ACK' && req.method !== 'CANCEL') {
    const supported = new Set((opts.supported ?? []).map((t) => t.toLowerCase()));
    const unsupported: string[] = [];
    for (const line of req.headers.getAll('Require')) {
      for (const tag of splitHeaderValues(line)) {
        if (tag.length > 0 && !supported.has(tag.toLowerCase())) unsupported.push(tag);
      }
    }
    if (unsupported.length > 0) return { status: 420, detail: 'unsupported extension required', unsupported };
  }
  if (opts.contentTypes !== undefined && req.body.length > 0) {
    const type = mediaType(req.headers.get('Content-Type') ?? '');
    if (!opts.contentTypes.some((t) => t.toLowerCase() === type)) {
      return { status: 415, detail: `unsupported body type ${type || '(none)'}` };
    }
  }
  return null;
}

function checkContacts(req: SipRequest): RequestProblem | null {
  const values = req.headers.getAll('Contact').flatMap((v) => splitHeaderValues(v));
  let wildcard = false;
  for (const v of values) {
    try {
      if (parseNameAddr(v).wildcard) wildcard = true;
    } catch {
      return { status: 400, detail: 'bad Contact' };
    }
  }
  if (wildcard) {
    // §10.2.2 / §10.3 step 6: `*` only in REGISTER, alone, with Expires: 0.
    const expires = req.headers.get('Expires');
    if (req.method !== 'REGISTER' || values.length !== 1 || expires === undefined || Number(expires) !== 0) {
      return { status: 400, detail: 'wildcard Contact misused' };
    }
  }
  return null;
}

/** `Application/SDP; charset=x` → `application/sdp`. */
export function mediaType(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).replace(/[ \t]/g, '').toLowerCase();
}

/**
 * Whether the request's Accept allows a body of `type` in the response
 * (§8.2.3; `*\/*` and `type/*` ranges, q=0 excluded). Without Accept, an
 * INVITE or OPTIONS accepts application/sdp (§11.2, §20.1) and nothing else
 * is assumed. RFC 4475 §3.3.15 (sdp01): an INVITE accepting only an unknown
 * type cannot get an SDP answer; the UAS answers 406.
 */
export function acceptsContentType(req: SipRequest, type: string): boolean {
  const want = type.toLowerCase();
  const lines = req.headers.getAll('Accept');
  if (lines.length === 0) return want === 'application/sdp' && (req.method === 'INVITE' || req.method === 'OPTIONS');
  const slash = want.indexOf('/');
  const major = want.slice(0, slash);
  for (const line of lines) {
    for (const item of splitHeaderValues(line)) {
      const params = item.split(';').slice(1);
      if (params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/i.test(p))) continue;
      const range = mediaType(item);
      if (range === '*/*' || range === want || range === `${major}/*`) return true;
    }
  }
  return false;
}

/** Max-Forwards of a request, or undefined when absent or not a number 0-255. */
export function maxForwards(msg: SipMessage): number | undefined {
  const v = msg.headers.get('Max-Forwards');
  return v === undefined ? undefined : parseMaxForwards(v);
}

/**
 * For a response arriving at a UAC: null to process it, else why to discard
 * it. §8.1.3.3: more than one Via means it was not meant for us (RFC 4475
 * §3.3.10 bcast sends one with a broadcast address in the second Via).
 */
export function validateResponse(res: SipResponse): string | null {
  const values = res.headers.getAll('Via').flatMap((v) => splitHeaderValues(v));
  if (values.length !== 1) return 'response must have exactly one Via';
  return null;
}
