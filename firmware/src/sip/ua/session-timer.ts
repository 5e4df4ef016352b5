/**
 * Session timers (RFC 4028): negotiation of Session-Expires / Min-SE and the
 * refresh / expiry clock of one session.
 *
 * The refresher parameter is relative to the transaction that carried it
 * (`uac` = the side that sent that request), so this module speaks of the
 * refresher as `local` or `remote` once a transaction is done.
 *
 *   refresher (us):      ──── interval/2 ────► send refresh (UPDATE or re-INVITE)
 *                        ──── interval ──────► no refresh succeeded: BYE (session-expired)
 *   not refresher (us):  ── interval - min(32 s, interval/3) ──► no refresh seen: BYE (§10)
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import { headerValues, optionTags } from '../dialog/header-utils.js';
import type { SipMessage, SipRequest } from '../message/types.js';

export interface SessionTimerConfig {
  /** Offer/require session timers at all. Default true. */
  enabled: boolean;
  /** Our preferred Session-Expires, seconds. Default 1800 (RFC 4028 §4 recommends 1800). */
  interval: number;
  /** Our Min-SE, seconds; never below 90 (RFC 4028 §5). Default 90. */
  minSE: number;
}

export const DEFAULT_SESSION_TIMER: SessionTimerConfig = { enabled: true, interval: 1800, minSE: 90 };

/** RFC 4028 §5: the absolute minimum. */
export const ABSOLUTE_MIN_SE = 90;

export type TxRefresher = 'uac' | 'uas';

export interface SessionExpires {
  interval: number;
  refresher?: TxRefresher;
}

export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const [head, ...params] = value.split(';');
  const interval = Number((head ?? '').trim());
  if (!Number.isInteger(interval) || interval <= 0) return undefined;
  let refresher: TxRefresher | undefined;
  for (const p of params) {
    const [k, v] = p.split('=').map((x) => x.trim().toLowerCase());
    if (k === 'refresher' && (v === 'uac' || v === 'uas')) refresher = v;
  }
  return refresher ? { interval, refresher } : { interval };
}

export function formatSessionExpires(se: SessionExpires): string {
  return se.refresher ? `${se.interval};refresher=${se.refresher}` : String(se.interval);
}

export function parseMinSE(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.split(';')[0]!.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function sessionExpiresOf(message: SipMessage): SessionExpires | undefined {
  return parseSessionExpires(message.headers.get('Session-Expires'));
}

/** Headers a UAC puts in an INVITE/UPDATE that asks for a session timer (§7.1, §7.4). */
export function requestTimerHeaders(interval: number, minSE: number, refresher?: TxRefresher): Array<[string, string]> {
  return [
    ['Session-Expires', formatSessionExpires(refresher ? { interval, refresher } : { interval })],
    ['Min-SE', String(minSE)],
  ];
}

export type UasTimerDecision =
  /** §8.1/§9: Session-Expires below our Min-SE. Answer 422 with this Min-SE. */
  | { kind: 'too-small'; minSE: number }
  | { kind: 'none' }
  | { kind: 'active'; interval: number; refresher: TxRefresher; headers: Array<[string, string]> };

/**
 * The UAS side of one INVITE/UPDATE (RFC 4028 §9). We copy Session-Expires,
 * reducing it to our preference but never below the request's Min-SE; the
 * refresher is the request's choice, else `uac` when the UAC supports timers,
 * else `uas` (us). When the request asks for nothing we still run a timer as
 * the refresher ourselves, so dead calls are found.
 */
export function uasTimerDecision(request: SipRequest, config: SessionTimerConfig): UasTimerDecision {
  if (!config.enabled) return { kind: 'none' };
  const ourMin = Math.max(ABSOLUTE_MIN_SE, config.minSE);
  const se = sessionExpiresOf(request);
  const theirMin = Math.max(ABSOLUTE_MIN_SE, parseMinSE(request.headers.get('Min-SE')) ?? ABSOLUTE_MIN_SE);
  const uacSupports = optionTags(request, 'Supported').has('timer') || optionTags(request, 'Require').has('timer');
  let interval: number;
  let refresher: TxRefresher;
  if (se) {
    if (se.interval < ourMin) return { kind: 'too-small', minSE: ourMin };
    interval = Math.max(Math.min(se.interval, config.interval), theirMin, ourMin);
    interval = Math.min(interval, se.interval); // §9: never increase it
    refresher = se.refresher ?? (uacSupports ? 'uac' : 'uas');
  } else {
    interval = Math.max(config.interval, theirMin, ourMin);
    refresher = 'uas';
  }
  if (!uacSupports) refresher = 'uas';
  const headers: Array<[string, string]> = [['Session-Expires', formatSessionExpires({ interval, refresher })]];
  // §9: a 2xx naming the UAC as refresher must require the extension.
  if (refresher === 'uac') headers.push(['Require', 'timer']);
  return { kind: 'active', interval, refresher, headers };
}

/**
 * The UAC side, from the 2xx to our INVITE/UPDATE (§7.2): Session-Expires in
 * the 2xx turns the timer on with the refresher it names (absent: us, the
 * safe side); no Session-Expires means no session expiry.
 */
export function uacTimerFromResponse(response: SipMessage): { interval: number; refresher: TxRefresher } | undefined {
  const se = sessionExpiresOf(response);
  if (!se) return undefined;
  return { interval: se.interval, refresher: se.refresher ?? 'uac' };
}

/** The Min-SE of a 422, for the retry (§7.1). */
export function minSEOf(message: SipMessage): number | undefined {
  return parseMinSE(headerValues(message, 'Min-SE')[0]);
}

/** §10: the non-refresher gives up this long before the interval ends. */
export function expiryMarginSeconds(interval: number): number {
  return Math.min(32, interval / 3);
}

/**
 * The clock side: one refresh timer (when we refresh) or one expiry timer,
 * restarted by every successful refresh in either direction.
 */
export class SessionTimer {
  private refreshTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;
  private current: { interval: number; localRefresher: boolean } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly handlers: { onRefreshDue: () => void; onExpired: () => void },
  ) {}

  get state(): { interval: number; localRefresher: boolean } | undefined {
    return this.current;
  }

  /** (Re)start after a successful refresh or the initial 2xx. */
  start(interval: number, localRefresher: boolean): void {
    this.stop();
    this.current = { interval, localRefresher };
    const ms = interval * 1000;
    if (localRefresher) {
      this.refreshTimer = this.clock.setTimer(ms / 2, () => {
        this.refreshTimer = undefined;
        this.handlers.onRefreshDue();
      });
      this.expiryTimer = this.clock.setTimer(ms, () => {
        this.expiryTimer = undefined;
        this.handlers.onExpired();
      });
    } else {
      this.expiryTimer = this.clock.setTimer(ms - expiryMarginSeconds(interval) * 1000, () => {
        this.expiryTimer = undefined;
        this.handlers.onExpired();
      });
    }
  }

  stop(): void {
    this.refreshTimer?.cancel();
    this.expiryTimer?.cancel();
    this.refreshTimer = undefined;
    this.expiryTimer = undefined;
    this.current = undefined;
  }
}
