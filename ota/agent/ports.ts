/**
 * What the update agent needs from the rest of the gateway, as small
 * interfaces the composition root implements (ARCHITECTURE.md: callbacks
 * up are delegate interfaces). The agent imports nothing from the
 * telephony core or the sync layer.
 */

/**
 * The call-control side (the PBX). The agent reboots only when no call is
 * up, and holds new calls off for the few seconds the reboot needs, so a
 * call that starts at the last moment is not cut either.
 */
export interface CallGuard {
  /** Calls in progress now (calls, not legs). */
  activeCalls(): number;
  /**
   * Refuse or queue new calls for at most `ms` (the PBX answers new INVITEs
   * with 503 + Retry-After, RFC 3261 §21.5.4, or holds them); returns a
   * function that ends the hold early. Calls already up are not touched.
   */
  holdNewCalls(ms: number): () => void;
}

/** Boot identity and reboot: the board interface (hw/slots/linux-reboot.ts on a real box). */
export interface OtaBoardPort {
  /** A value that changes on every boot (Linux: /proc/sys/kernel/random/boot_id). */
  bootId(): Promise<string>;
  /**
   * Reboots the box; `arg` goes to the reboot system call (the Pi's
   * "0 tryboot"). Resolves once the reboot is under way (the process is
   * then stopped by the system); rejects when it could not be started.
   */
  reboot(options: { arg?: string; reason: string }): Promise<void>;
}

export interface HealthCheckItem {
  /** e.g. `sip`, `config`, `uplink`. */
  name: string;
  ok: boolean;
  detail?: string;
}

export interface HealthReport {
  healthy: boolean;
  checks: HealthCheckItem[];
}

/**
 * Is the gateway on the new slot doing its job? health-probes.ts has real
 * probes (SIP OPTIONS to our own listener, the admin API's status).
 */
export interface HealthCheck {
  check(signal: AbortSignal): Promise<HealthReport>;
}

/**
 * The agent's MQTT link, given by the composition root (mqtt-link.ts adapts
 * the sync layer's connection or a plain mqtt.js client).
 */
export interface OtaLink {
  /** Publishes the retained `ota/reported` (QoS 1); rejects when offline. */
  publishReported(payload: string): Promise<void>;
  /**
   * Subscribes to `ota/desired` (QoS 1; the retained target is delivered on
   * every (re)subscribe) and calls `handler` with each payload. Returns an
   * unsubscribe function.
   */
  subscribeDesired(handler: (payload: Buffer) => void): Promise<() => void>;
  /** Calls `handler` on every (re)connect, so the agent publishes its report again. Returns an unsubscribe function. */
  onConnected(handler: () => void): () => void;
}

/** Free bytes for an unprivileged writer in the file system holding `dir`. */
export type FreeSpaceFn = (dir: string) => Promise<number>;
