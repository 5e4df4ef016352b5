/**
 * The INVITE a call leaving the building sends to each kind of uplink:
 * Request-URI, From/To, identity headers and credentials.
 *
 * Numbers: emergency numbers go out exactly as dialled; anything else is
 * normalised to E.164 (uk-numbers.ts) and written the way the uplink wants.
 *
 * Identity (RFC 3325 P-Asserted-Identity, trusted between the gateway and
 * its uplinks):
 * - cloud, trunk mode: the caller's extension, `"Name" <sip:201@CLOUD>`:
 *   the platform knows the desks by extension number;
 * - cloud, register mode: the extension's cloud account, with its
 *   credentials for 401/407;
 * - backup trunk: the number the carrier lets the practice present: the
 *   trunk's `callerId` when set (the trunk requires that one), else the
 *   extension's own DID (`outboundCallerId`), else the practice's main
 *   number, else the trunk account; desk names stay inside the building.
 *
 * Emergency INVITEs carry `Priority: emergency` (RFC 3261 §20.26).
 */
import type { OutboundCall, UplinkTarget } from '../pbx/external-routes.js';
import type { Endpoint } from '../sip/transport/api.js';
import type { CloudAccountConfig } from '../config/practice-schema.js';
import type { Credentials } from '../sip/ua/credentials.js';
import { formatForUplink, toE164, type DialPlanRules, type NumberFormat } from './uk-numbers.js';

/** How long an external call may ring at the far end. */
export const EXTERNAL_RING_SECONDS = 180;
/** Emergency calls are never given up by the gateway while the far end rings. */
export const EMERGENCY_RING_SECONDS = 600;
/** An emergency INVITE with no response at all in this time moves on to the next uplink. */
export const EMERGENCY_NO_PROGRESS_MS = 5_000;

export interface CloudTargetInput {
  call: OutboundCall;
  rules: DialPlanRules;
  destination: Endpoint;
  /** host[:port] of the platform for URIs. */
  domain: string;
  scheme: 'sip' | 'sips';
  /** register mode: the caller's cloud account. */
  account?: CloudAccountConfig;
}

export function cloudTarget(i: CloudTargetInput): Omit<UplinkTarget, 'uplink' | 'ringSeconds'> {
  const number = numberOut(i.call, i.rules, 'e164');
  const uri = `${i.scheme}:${number}@${i.domain}`;
  const display = i.call.caller.name ? `${quote(i.call.caller.name)} ` : '';
  if (i.account) {
    const identity = `${display}<${i.scheme}:${i.account.username}@${i.domain}>`;
    const credentials: Credentials = { username: i.account.authUsername ?? i.account.username, password: i.account.password };
    return {
      uri,
      destination: i.destination,
      from: identity,
      to: `<${uri}>`,
      headers: emergencyHeaders(i.call),
      credentials,
      contactUser: i.call.caller.number,
    };
  }
  const identity = `${display}<${i.scheme}:${i.call.caller.number}@${i.domain}>`;
  return {
    uri,
    destination: i.destination,
    from: identity,
    to: `<${uri}>`,
    headers: [['P-Asserted-Identity', identity], ...emergencyHeaders(i.call)],
    contactUser: i.call.caller.number,
  };
}

export interface TrunkTargetInput {
  call: OutboundCall;
  rules: DialPlanRules;
  destination: Endpoint;
  domain: string;
  scheme: 'sip' | 'sips';
  format: NumberFormat;
  username: string;
  credentials: Credentials;
  /** trunks[].callerId */
  trunkCallerId?: string;
  /** site.mainNumber */
  mainNumber?: string;
}

/** The number presented on a trunk (see the module comment for the order). */
export function presentedNumber(i: Pick<TrunkTargetInput, 'call' | 'trunkCallerId' | 'mainNumber' | 'username'>): string {
  return i.trunkCallerId ?? i.call.caller.outboundCallerId ?? i.mainNumber ?? i.username;
}

export function trunkTarget(i: TrunkTargetInput): Omit<UplinkTarget, 'uplink' | 'ringSeconds'> {
  const number = numberOut(i.call, i.rules, i.format);
  const uri = `${i.scheme}:${number}@${i.domain}`;
  const presented = presentedNumber(i);
  const cli = presented.startsWith('+') ? formatForUplink(presented, i.format, i.rules) : presented;
  const identity = `<${i.scheme}:${cli}@${i.domain}>`;
  return {
    uri,
    destination: i.destination,
    from: identity,
    to: `<${uri}>`,
    headers: [['P-Asserted-Identity', identity], ...emergencyHeaders(i.call)],
    credentials: i.credentials,
    contactUser: i.username,
  };
}

/** The number as it goes out: emergency numbers untouched, others E.164 in the uplink's format. */
export function numberOut(call: OutboundCall, rules: DialPlanRules, format: NumberFormat): string {
  // The dial plan hands emergency calls over as the bare emergency number (9-999 already made 999).
  if (call.kind === 'emergency') return call.dialled;
  return formatForUplink(toE164(call.dialled, rules), format, rules);
}

function emergencyHeaders(call: OutboundCall): Array<[string, string]> {
  return call.kind === 'emergency' ? [['Priority', 'emergency']] : [];
}

function quote(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
