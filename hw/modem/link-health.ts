/**
 * What the trunk uplink reads of a backup link (issue 5: "the state feeds the
 * trunk uplink's health"). A LinkHealthSource is implemented by the modem
 * monitor for 4G; a broadband link can implement it too. `up` means the
 * link can carry traffic now as far as the link layer knows; the uplink's
 * own SIP probes still decide whether the trunk is usable.
 */
export type LinkDownReason =
  | 'stopped'
  | 'starting'
  | 'unresponsive'
  | 'resetting'
  | 'no-sim'
  | 'sim-locked'
  | 'no-signal'
  | 'not-registered'
  | 'registration-denied'
  | 'not-attached'
  | 'data-dead';

export interface LinkHealth {
  up: boolean;
  /** `ok` when up, else why not. */
  reason: 'ok' | LinkDownReason;
  /** 0..5, for the panel and telemetry. */
  signalBars: number;
  rssiDbm: number | null;
  tech: string | null;
  operator: string | null;
  /** Clock.now() when `up` or `reason` last changed. */
  since: number;
}

export interface LinkHealthSource {
  linkHealth(): LinkHealth;
  /** Called when `up` or `reason` changes. Returns an unsubscribe function. */
  onLinkHealth(listener: (health: LinkHealth) => void): () => void;
}
