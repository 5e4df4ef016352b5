/**
 * The update agent's state machine, as data (ARCHITECTURE.md convention 2):
 * a transition table over a closed set of events. transition() is the only
 * way to move; anything not in the table throws PGW_E_STATE_TRANSITION.
 *
 *              target                head-ok                 downloaded              verified
 *   idle ─────────────► checking ─────────────► downloading ───────────► verifying ──────────► waiting-window
 *   (and committed,        │                      │   ▲                    │  │                   │    ▲
 *    rolled-back,          │ refuse / fail        │   └──── redownload ────┘  │ refuse / fail     │    │ window-closed
 *    refused, failed)      ▼                      ▼                           ▼                   │    │
 *                    refused | failed       refused | failed           refused | failed           │    │
 *                                                                                     window-open │    │
 *                                                                                                 ▼    │
 *                           installed                  no-calls                            waiting-idle
 *   rebooting ◄────────────────────────── installing ◄──────────────────────────────────────  ▲  │
 *     │  │  └─ reboot-interrupted (same boot: never rebooted) ─────────────────────────────────┘  │
 *     │  │                                    └──── call-active ───────────────────────────────────┘
 *     │  └─ booted-old (the boot loader fell back) ──────────────────────────────► rolled-back
 *     │ booted-new                                                                     ▲
 *     ▼          healthy (soak passed, slot committed)                                 │ booted-old
 *   trial ─────────────────────────────────────────► committed                         │
 *     │  └─ booted-old (rebooted on trial, the boot loader went back) ──────► rolled-back
 *     │ unhealthy (health check failed for the trial time, too many boots on trial, wrong version)
 *     ▼
 *   rolling-back ──────────────────────────────────────────────────────────────────────┘
 *
 * `target` (a new ota/desired id) is legal from every state before the
 * reboot (it cancels the work in progress) and from the four final states.
 * From rebooting, trial and rolling-back it is not: the agent queues it and
 * delivers it once the machine reaches a final state, so nothing can
 * interrupt a boot slot switch half-way.
 */
import { PgwError } from '../../firmware/src/util/errors.js';

export const OTA_STATES = [
  'idle',
  'checking',
  'downloading',
  'verifying',
  'waiting-window',
  'waiting-idle',
  'installing',
  'rebooting',
  'trial',
  'committed',
  'rolling-back',
  'rolled-back',
  'refused',
  'failed',
] as const;
export type OtaState = (typeof OTA_STATES)[number];

export const OTA_EVENTS = [
  'target',
  'head-ok',
  'downloaded',
  'redownload',
  'verified',
  'window-open',
  'window-closed',
  'no-calls',
  'call-active',
  'installed',
  'reboot-interrupted',
  'booted-new',
  'booted-old',
  'healthy',
  'unhealthy',
  'refuse',
  'fail',
] as const;
export type OtaEvent = (typeof OTA_EVENTS)[number];

export const FINAL_STATES: readonly OtaState[] = ['idle', 'committed', 'rolled-back', 'refused', 'failed'];

export type OtaTransitionTable = Readonly<Record<OtaState, Readonly<Partial<Record<OtaEvent, OtaState>>>>>;

export const OTA_TRANSITIONS: OtaTransitionTable = {
  idle: { target: 'checking' },
  checking: { target: 'checking', 'head-ok': 'downloading', refuse: 'refused', fail: 'failed' },
  downloading: { target: 'checking', downloaded: 'verifying', refuse: 'refused', fail: 'failed' },
  verifying: { target: 'checking', verified: 'waiting-window', redownload: 'downloading', refuse: 'refused', fail: 'failed' },
  'waiting-window': { target: 'checking', 'window-open': 'waiting-idle', fail: 'failed' },
  'waiting-idle': { target: 'checking', 'window-closed': 'waiting-window', 'no-calls': 'installing', fail: 'failed' },
  installing: {
    target: 'checking',
    'window-closed': 'waiting-window',
    'call-active': 'waiting-idle',
    installed: 'rebooting',
    refuse: 'refused',
    fail: 'failed',
  },
  rebooting: { 'booted-new': 'trial', 'booted-old': 'rolled-back', 'reboot-interrupted': 'waiting-idle', fail: 'failed' },
  trial: { healthy: 'committed', unhealthy: 'rolling-back', 'booted-old': 'rolled-back' },
  'rolling-back': { 'booted-old': 'rolled-back' },
  committed: { target: 'checking' },
  'rolled-back': { target: 'checking' },
  refused: { target: 'checking' },
  failed: { target: 'checking' },
};

export function isOtaState(s: unknown): s is OtaState {
  return typeof s === 'string' && (OTA_STATES as readonly string[]).includes(s);
}

export function isFinal(s: OtaState): boolean {
  return FINAL_STATES.includes(s);
}

/** The next state for `event` in `from`, or undefined when the table has no such move. */
export function nextState(from: OtaState, event: OtaEvent, table: OtaTransitionTable = OTA_TRANSITIONS): OtaState | undefined {
  return table[from][event];
}

/** The checked move: throws PGW_E_STATE_TRANSITION when `event` is illegal in `from`. */
export function transition(from: OtaState, event: OtaEvent, table: OtaTransitionTable = OTA_TRANSITIONS): OtaState {
  const to = table[from][event];
  if (to === undefined)
    throw new PgwError('PGW_E_STATE_TRANSITION', `ota: illegal event ${event} in state ${from}`, { context: { from, event } });
  return to;
}

/** Whether a new target may interrupt this state now (else it is queued). */
export function acceptsTarget(s: OtaState): boolean {
  return OTA_TRANSITIONS[s].target !== undefined;
}
