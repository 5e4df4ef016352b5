/**
 * Where a call arriving over an uplink goes (`practice.inbound[]`, issue 6).
 *
 * The called number is looked for in the Request-URI user first (the cloud
 * and most carriers put the DID there), then in the To user (carriers that
 * send calls to the registered Contact, `sip:USERNAME@gateway`, and carry
 * the DID in To). A DID is matched in E.164 however it was written
 * (uk-numbers.ts, canonicalDid). From the cloud, an extension or hunt group
 * number (2–8 digits) is taken as it is: in trunk mode the platform sends
 * calls for extensions by Request-URI user, in register mode to the
 * extension's own binding. From a trunk, only the practice's DIDs are
 * accepted: anything else is a number the practice does not own, 404.
 *
 * The caller is the P-Asserted-Identity the uplink vouches for (RFC 3325 §9.1;
 * the peer is trusted by address), else From.
 */
import type { InboundCaller, InboundDecision } from '../pbx/external-routes.js';
import { parseNameAddr, parseUri } from '../sip/message/index.js';
import type { SipRequest } from '../sip/message/types.js';
import { canonicalDid } from './uk-numbers.js';

export interface InboundContext {
  uplink: string;
  kind: 'cloud' | 'trunk';
  /** E.164 DID → extension or hunt group number. */
  dids: ReadonlyMap<string, string>;
  countryCode: string;
}

const INTERNAL = /^[0-9]{2,8}$/;

export function routeInbound(request: SipRequest, ctx: InboundContext): InboundDecision {
  const candidates = [requestUriUser(request), headerUser(request, 'To')].filter((u): u is string => !!u);
  for (const called of candidates) {
    const did = canonicalDid(called, ctx.countryCode);
    const destination = did !== undefined ? ctx.dids.get(did) : undefined;
    if (destination !== undefined) return { kind: 'route', uplink: ctx.uplink, destination, called: did!, caller: callerOf(request, ctx.countryCode) };
  }
  if (ctx.kind === 'cloud') {
    const internal = candidates.find((c) => INTERNAL.test(c));
    if (internal !== undefined) return { kind: 'route', uplink: ctx.uplink, destination: internal, called: internal, caller: callerOf(request, ctx.countryCode) };
  }
  // Say which number was asked for: the public one, not the account name a carrier put in the Request-URI.
  const asked = candidates.map((c) => canonicalDid(c, ctx.countryCode)).find((d) => d !== undefined) ?? candidates[0] ?? '';
  return { kind: 'reject', uplink: ctx.uplink, status: 404, reason: 'Not Found', called: asked };
}

export function callerOf(request: SipRequest, countryCode: string): InboundCaller {
  for (const name of ['P-Asserted-Identity', 'From']) {
    const value = request.headers.get(name);
    if (!value) continue;
    try {
      // P-Asserted-Identity may list a sip: and a tel: identity (RFC 3325 §9.1): the first will do.
      const first = name === 'P-Asserted-Identity' ? (value.split(/,(?=\s*(?:"|<|sip|tel))/)[0] ?? value) : value;
      const na = parseNameAddr(first);
      const user = na.uri.user;
      if (!user) continue;
      return { number: canonicalDid(user, countryCode) ?? user, name: na.displayName ?? null };
    } catch {
      continue;
    }
  }
  return { number: 'anonymous', name: null };
}

function requestUriUser(request: SipRequest): string | undefined {
  try {
    return parseUri(request.uri).user;
  } catch {
    return undefined;
  }
}

function headerUser(request: SipRequest, name: string): string | undefined {
  try {
    return parseNameAddr(request.headers.get(name) ?? '').uri.user;
  } catch {
    return undefined;
  }
}
