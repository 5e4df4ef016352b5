/**
 * RFC 3261 §17 timers, by their RFC names (Table 4 of RFC 3261, Timers L and M
 * from RFC 6026 §8.11). Values in milliseconds.
 *
 * The module-level constants are the RFC defaults; a transaction layer built
 * with other T1/T2/T4 (tests, or a high-latency trunk) uses timerValues().
 *
 * Timer C (the proxy's INVITE guard, > 3 min) is not here: it belongs to
 * proxies (§16.6 step 11) and the gateway is a UA/B2BUA, whose TU cancels
 * unanswered INVITEs itself (no-answer timers in pbx/).
 *
 * On reliable transports (TCP, TLS) the retransmission timers A, E, G are not
 * started and the wait timers D, I, J, K are zero (§17.1.1.2, §17.1.2.2,
 * §17.2.1, §17.2.2): hence the `reliable` split in timerValues().
 */

/** RTT estimate. */
export const T1 = 500;
/** Maximum retransmit interval for non-INVITE requests and INVITE responses. */
export const T2 = 4000;
/** Maximum duration a message remains in the network. */
export const T4 = 5000;

/** INVITE request retransmit interval, UDP only; doubles every time. */
export const TIMER_A = T1;
/** INVITE transaction timeout. */
export const TIMER_B = 64 * T1;
/** Wait time for response retransmits (INVITE client, Completed); 0 on reliable transports. */
export const TIMER_D = 32_000;
/** Non-INVITE request retransmit interval, UDP only; doubles up to T2. */
export const TIMER_E = T1;
/** Non-INVITE transaction timeout. */
export const TIMER_F = 64 * T1;
/** INVITE final (non-2xx) response retransmit interval, UDP only; doubles up to T2. */
export const TIMER_G = T1;
/** Wait time for ACK receipt (INVITE server, Completed). */
export const TIMER_H = 64 * T1;
/** Wait time for ACK retransmits (INVITE server, Confirmed); 0 on reliable transports. */
export const TIMER_I = T4;
/** Wait time for non-INVITE request retransmits (server, Completed); 0 on reliable transports. */
export const TIMER_J = 64 * T1;
/** Wait time for response retransmits (non-INVITE client, Completed); 0 on reliable transports. */
export const TIMER_K = T4;
/** Wait time for accepted INVITE request retransmits (INVITE server, Accepted; RFC 6026). */
export const TIMER_L = 64 * T1;
/** Wait time for retransmission of 2xx to INVITE (INVITE client, Accepted; RFC 6026). */
export const TIMER_M = 64 * T1;
/** §17.2.1: an INVITE server transaction sends 100 Trying if the TU has not answered within 200 ms. */
export const TIMER_100_TRYING = 200;

export interface TimerBase {
  T1: number;
  T2: number;
  T4: number;
}

export interface TimerValues extends TimerBase {
  A: number;
  B: number;
  D: number;
  E: number;
  F: number;
  G: number;
  H: number;
  I: number;
  J: number;
  K: number;
  L: number;
  M: number;
  TRYING: number;
}

export const DEFAULT_TIMER_BASE: TimerBase = { T1, T2, T4 };

/** The timer values for a transaction on a reliable or unreliable transport. */
export function timerValues(base: Partial<TimerBase> = {}, reliable = false): TimerValues {
  const t1 = base.T1 ?? T1;
  const t2 = base.T2 ?? T2;
  const t4 = base.T4 ?? T4;
  return {
    T1: t1,
    T2: t2,
    T4: t4,
    A: t1,
    B: 64 * t1,
    // §17.1.1.2: "at least 32 seconds for unreliable transports", whatever T1 is.
    D: reliable ? 0 : TIMER_D,
    E: t1,
    F: 64 * t1,
    G: t1,
    H: 64 * t1,
    I: reliable ? 0 : t4,
    J: reliable ? 0 : 64 * t1,
    K: reliable ? 0 : t4,
    L: 64 * t1,
    M: 64 * t1,
    TRYING: TIMER_100_TRYING,
  };
}
