/**
 * The UA layer's settings, with defaults. Timer values keep their RFC names.
 */
import { T1, T2 } from '../transaction/timers.js';
import { DEFAULT_SESSION_TIMER, type SessionTimerConfig } from './session-timer.js';

export interface UaConfig {
  /** RFC 3261 T1 (RTT estimate), ms. */
  t1: number;
  /** RFC 3261 T2 (cap of 2xx retransmission intervals), ms. */
  t2: number;
  sessionTimer: SessionTimerConfig;
  /**
   * PRACK as UAS (RFC 3262): 'off' never sends reliable 1xx (an INVITE that
   * requires 100rel gets 420); 'required' only when the INVITE says
   * `Require: 100rel`; 'supported' also when it says `Supported: 100rel`.
   */
  uasPrack: 'off' | 'required' | 'supported';
  /** PRACK as UAC: advertise nothing, `Supported: 100rel`, or `Require: 100rel`. */
  uacPrack: 'off' | 'supported' | 'required';
  /** For session refresh, use UPDATE when the peer allows it (RFC 4028 §7.4 allows either). */
  preferUpdateForRefresh: boolean;
  /** Methods in Allow. */
  allow: string[];
  /** Server / User-Agent header value; none when undefined. */
  userAgent?: string;
  /** User part of our Contact when a request does not say. */
  contactUser?: string;
  /** 491 glare retries before giving up on a re-INVITE/UPDATE. */
  maxGlareRetries: number;
}

export const DEFAULT_ALLOW = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'UPDATE', 'PRACK', 'INFO', 'REFER', 'NOTIFY', 'MESSAGE'];

export function uaConfig(partial: Partial<UaConfig> = {}): UaConfig {
  return {
    t1: partial.t1 ?? T1,
    t2: partial.t2 ?? T2,
    sessionTimer: { ...DEFAULT_SESSION_TIMER, ...partial.sessionTimer },
    uasPrack: partial.uasPrack ?? 'required',
    uacPrack: partial.uacPrack ?? 'supported',
    preferUpdateForRefresh: partial.preferUpdateForRefresh ?? true,
    allow: partial.allow ?? DEFAULT_ALLOW,
    ...(partial.userAgent !== undefined ? { userAgent: partial.userAgent } : {}),
    ...(partial.contactUser !== undefined ? { contactUser: partial.contactUser } : {}),
    maxGlareRetries: partial.maxGlareRetries ?? 5,
  };
}

/**
 * Option tags we support as UAS (in Require of requests we receive: others get
 * 420, RFC 3261 §8.2.2.3; and in Supported of our responses) or as UAC (in
 * Supported of our requests).
 */
export function supportedOptionTags(config: UaConfig, role: 'uas' | 'uac' = 'uas'): string[] {
  const out: string[] = [];
  if ((role === 'uas' ? config.uasPrack : config.uacPrack) !== 'off') out.push('100rel');
  if (config.sessionTimer.enabled) out.push('timer');
  return out;
}
