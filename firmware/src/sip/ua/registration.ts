/**
 * Client registration (RFC 3261 §10.2): keeps one contact of ours bound at a
 * registrar, e.g. the gateway at a backup trunk, refreshed before it expires
 * and re-established with backoff when it fails.
 *
 *   idle ──start()──► registering ──2xx──► registered ◄──┐ refresh (stays registered)
 *                        │  ▲                  │   └────┘
 *              failure   ▼  │ backoff          │ refresh fails
 *                      retrying ◄──────────────┘
 *   registering/registered/retrying ──stop()──► unregistering ──final──► idle
 *
 * One Call-ID for every REGISTER of this binding and a CSeq that goes up by
 * one each time (§10.2.4). 401/407 are answered by the UA core's sendRequest;
 * 423 is retried at once with the registrar's Min-Expires (§10.2.8).
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { silentLogger } from '../../util/logger.js';
import { cseqOf, headerValues } from '../dialog/header-utils.js';
import { generateCallId, generateTag, parseNameAddr, uriEquals } from '../message/index.js';
import type { SipResponse } from '../message/types.js';
import { StateMachine, type TransitionTable } from '../../util/state-machine.js';
import type { Endpoint } from '../transport/api.js';
import type { CredentialProvider } from './credentials.js';
import { TypedEvents } from './typed-events.js';
import type { UserAgentCore } from './user-agent-core.js';

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'retrying' | 'unregistering';

const TRANSITIONS: TransitionTable<RegistrationState> = {
  idle: ['registering'],
  registering: ['registered', 'retrying', 'unregistering', 'idle'],
  registered: ['registering', 'retrying', 'unregistering', 'idle'],
  retrying: ['registering', 'unregistering', 'idle'],
  unregistering: ['idle'],
};

export interface RegistrationOptions {
  ua: Pick<UserAgentCore, 'sendRequest' | 'contact'>;
  clock: Clock;
  /** Request-URI of the REGISTER, e.g. `sip:trunk.example`. */
  registrar: string;
  destination: Endpoint;
  /** The address-of-record, used in From and To, e.g. `<sip:0123456789@trunk.example>`. */
  aor: string;
  credentials?: CredentialProvider;
  /** Requested expiry, seconds. Default 3600. */
  expires?: number;
  /** Refresh when this fraction of the granted expiry has passed. Default 0.5. */
  refreshFraction?: number;
  /** Backoff after failures: doubling from minMs to maxMs, each wait scaled by a random 0.5–1. */
  retry?: { minMs?: number; maxMs?: number };
  contactUser?: string;
  headers?: Array<[string, string]>;
  /** TLS: the name the registrar's certificate must match (RFC 5922 §4). */
  tlsServerName?: string;
  random?: () => number;
  logger?: Logger;
}

export interface RegistrationEvents {
  state: { from: RegistrationState; to: RegistrationState };
  registered: { expires: number; response: SipResponse };
  failed: { status: number; response: SipResponse; retryInMs: number };
  unregistered: { status: number };
}

export class Registration {
  private readonly o: RegistrationOptions;
  private readonly machine: StateMachine<RegistrationState>;
  private readonly events: TypedEvents<RegistrationEvents>;
  private readonly log: Logger;
  private readonly callId = generateCallId();
  private readonly fromTag = generateTag();
  private readonly random: () => number;
  private cseq = 1;
  private requestedExpires: number;
  private grantedValue: number | undefined;
  private failures = 0;
  private timer: TimerHandle | undefined;
  /** Bumped on stop(): answers to REGISTERs of an older generation are ignored. */
  private generation = 0;
  /** A REGISTER is waiting for its final answer (one at a time: §10.2.4 CSeq order). */
  private sending = false;

  constructor(options: RegistrationOptions) {
    this.o = options;
    this.log = (options.logger ?? silentLogger()).child({ component: 'sip-registration', aor: options.aor });
    this.machine = new StateMachine<RegistrationState>('registration', 'idle', TRANSITIONS, this.log);
    this.events = new TypedEvents<RegistrationEvents>(this.log);
    this.requestedExpires = options.expires ?? 3600;
    this.random = options.random ?? Math.random;
  }

  get state(): RegistrationState {
    return this.machine.state;
  }

  /** The expiry the registrar granted last, seconds. */
  get granted(): number | undefined {
    return this.grantedValue;
  }

  on<K extends keyof RegistrationEvents>(name: K, fn: (e: RegistrationEvents[K]) => void): () => void {
    return this.events.on(name, fn);
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.failures = 0;
    this.register();
  }

  /**
   * REGISTER now instead of at the refresh time or after the backoff: the
   * registrar has just become reachable again and may have lost its bindings
   * (an SBC that restarted). A bound registration stays `registered` while
   * the refresh is in flight, so status does not flap; a retrying one starts
   * its backoff afresh. Nothing happens while a REGISTER is already in
   * flight (its answer is coming) or when idle.
   */
  refreshNow(): void {
    if ((this.state !== 'registered' && this.state !== 'retrying') || this.sending) return;
    this.timer?.cancel();
    this.timer = undefined;
    if (this.state === 'retrying') this.failures = 0;
    this.register();
  }

  /** Unregister (Expires: 0) when bound or trying; resolves when done. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    this.generation++;
    this.sending = false;
    if (this.state === 'idle' || this.state === 'unregistering') return;
    const wasBound = this.state === 'registered' || this.state === 'registering';
    if (!wasBound) {
      this.setState('idle');
      return;
    }
    this.setState('unregistering');
    const { response } = await this.send(0);
    this.grantedValue = undefined;
    this.setState('idle');
    this.events.emit('unregistered', { status: response.status });
  }

  private contact(): string {
    return this.o.ua.contact(this.o.destination, this.o.contactUser);
  }

  private async send(expires: number): Promise<{ response: SipResponse }> {
    const result = await this.o.ua.sendRequest({
      method: 'REGISTER',
      uri: this.o.registrar,
      destination: this.o.destination,
      from: this.o.aor,
      to: this.o.aor,
      fromTag: this.fromTag,
      callId: this.callId,
      cseq: this.cseq,
      headers: [['Contact', this.contact()], ['Expires', String(expires)], ...(this.o.headers ?? [])],
      ...(this.o.credentials ? { credentials: this.o.credentials } : {}),
      ...(this.o.tlsServerName ? { tlsServerName: this.o.tlsServerName } : {}),
    });
    // Auth retries used CSeq numbers too: carry on after the last one sent (§10.2.4).
    this.cseq = cseqOf(result.request).seq + 1;
    return { response: result.response };
  }

  /** A refresh keeps the state `registered` (the binding is still good) so that uplink status does not flap. */
  private register(): void {
    if (this.state !== 'registering' && this.state !== 'registered') this.setState('registering');
    const generation = this.generation;
    this.sending = true;
    void this.send(this.requestedExpires).then(({ response }) => {
      if (generation !== this.generation) return;
      this.sending = false;
      this.onResponse(response);
    });
  }

  private onResponse(r: SipResponse): void {
    if (r.status >= 200 && r.status < 300) {
      const granted = this.grantedExpires(r);
      if (granted > 0) {
        this.failures = 0;
        this.grantedValue = granted;
        if (this.state !== 'registered') this.setState('registered');
        this.events.emit('registered', { expires: granted, response: r });
        const fraction = this.o.refreshFraction ?? 0.5;
        this.timer = this.o.clock.setTimer(Math.max(1000, granted * 1000 * fraction), () => {
          this.timer = undefined;
          this.register();
        });
        return;
      }
    }
    if (r.status === 423) {
      const min = Number(r.headers.get('Min-Expires'));
      if (Number.isInteger(min) && min > this.requestedExpires) {
        this.requestedExpires = min;
        this.register();
        return;
      }
    }
    this.fail(r);
  }

  private fail(r: SipResponse): void {
    this.failures++;
    this.grantedValue = undefined;
    const min = this.o.retry?.minMs ?? 5_000;
    const max = this.o.retry?.maxMs ?? 300_000;
    const base = Math.min(max, min * 2 ** (this.failures - 1));
    const wait = Math.round(base * (0.5 + 0.5 * this.random()));
    this.log.warn({ status: r.status, retryInMs: wait }, 'registration failed');
    this.setState('retrying');
    this.events.emit('failed', { status: r.status, response: r, retryInMs: wait });
    this.timer = this.o.clock.setTimer(wait, () => {
      this.timer = undefined;
      this.register();
    });
  }

  /** Our Contact's expires parameter, else the Expires header, else what we asked for (§10.2.4). */
  private grantedExpires(r: SipResponse): number {
    let ours;
    try {
      ours = parseNameAddr(this.contact()).uri;
    } catch {
      ours = undefined;
    }
    for (const value of headerValues(r, 'Contact')) {
      try {
        const c = parseNameAddr(value);
        if (ours && uriEquals(c.uri, ours)) {
          const e = Number(c.params.get('expires'));
          if (Number.isFinite(e)) return e;
        }
      } catch {
        /* a contact we cannot read is not ours */
      }
    }
    const header = Number(r.headers.get('Expires'));
    if (r.headers.has('Expires') && Number.isFinite(header)) return header;
    return this.requestedExpires;
  }

  private setState(to: RegistrationState): void {
    const from = this.machine.state;
    if (from === to) return;
    this.machine.transition(to);
    this.events.emit('state', { from, to });
  }
}
