/**
 * The cloud telephony platform's SBC over HSCN (issue 6). Two modes:
 *
 * - `trunk`: the site is one peer of the SBC, trusted by address both ways.
 *   The cloud sends calls for extensions by Request-URI user (or a DID);
 *   the gateway sends external calls with the caller's extension identity
 *   (`<sip:201@CLOUD-DOMAIN>`) so the platform knows which desk called.
 * - `register`: the gateway registers each extension upstream on its
 *   behalf (`extensions[].cloudAccount`), Contact user = the extension
 *   number, so calls the platform sends to that binding name the extension;
 *   external calls go out as the extension's cloud account, answering
 *   challenges with its credentials.
 *
 * Health is the probes' (and the HSCN interface's): the registrations follow
 * the link. When the cloud answers again after an outage (it may have lost
 * its bindings: an SBC that restarted), every upstream registration is
 * refreshed at once, and the gateway does not fail back to `normal` until
 * each has been answered 2xx since (registrationsFresh()), or until
 * failbackWaitMs after the cloud is `up` again, whichever comes first: a
 * refused account must not keep the whole practice on the backup trunk.
 * The same holds at start: `normal` waits for the first registrations.
 * Usually the refresh is over long before recoverAfterMs has passed.
 */
import type { CloudAccountConfig, CloudUplinkConfig } from '../config/practice-schema.js';
import { Registration } from '../sip/ua/registration.js';
import type { TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { uriHostPort } from './peer-address.js';
import type { HealthChange } from './uplink-health.js';
import { UplinkPeer, type UplinkCommonOptions } from './uplink-peer.js';
import { UplinkTls, schemeFor } from './uplink-tls.js';

export const CLOUD_UPLINK_NAME = 'cloud';

/** Register mode: how long failback waits, once the cloud is up, for registrations not yet refreshed. */
export const FAILBACK_REGISTRATION_WAIT_MS = 10_000;

export interface CloudExtension {
  number: string;
  cloudAccount?: CloudAccountConfig;
}

export interface CloudUplinkOptions extends UplinkCommonOptions {
  config: CloudUplinkConfig;
  extensions: readonly CloudExtension[];
  /** Register mode: registrationsFresh() became true (every one refreshed, or the wait is over). */
  onRegistrationsFresh?: (why: 'registrations-refreshed' | 'registration-wait-over') => void;
  /** Default FAILBACK_REGISTRATION_WAIT_MS. */
  failbackWaitMs?: number;
}

export class CloudUplink {
  readonly name = CLOUD_UPLINK_NAME;
  readonly config: CloudUplinkConfig;
  readonly peer: UplinkPeer;
  private readonly tls: UplinkTls;
  private readonly registrations = new Map<string, Registration>();
  private readonly log: Logger;
  private running = false;
  /** Register mode: extensions whose registration has not been answered 2xx since the cloud came back (or since start). */
  private readonly awaiting = new Set<string>();
  private waitTimer: TimerHandle | undefined;

  constructor(private readonly o: CloudUplinkOptions) {
    this.config = o.config;
    this.log = o.logger.child({ component: 'uplink', uplink: CLOUD_UPLINK_NAME });
    this.tls = new UplinkTls({ name: CLOUD_UPLINK_NAME, config: o.config.tls, transport: o.transport, ...(o.readFile ? { readFile: o.readFile } : {}) });
    this.peer = new UplinkPeer({
      name: CLOUD_UPLINK_NAME,
      uri: o.config.proxy,
      probe: o.config.probe,
      ua: o.ua,
      clock: o.clock,
      logger: o.logger,
      dns: o.dns,
      localDomain: o.localDomain,
      linkFor: o.linkFor,
      onHealth: (c) => this.onPeerHealth(c),
      tls: this.tls,
    });
  }

  get mode(): CloudUplinkConfig['mode'] {
    return this.config.mode;
  }

  /** The platform's domain: `domain`, else the proxy's host. */
  get domain(): string {
    if (this.config.domain) return this.config.domain;
    const r = this.peer.resolved;
    if (r) return uriHostPort(r);
    return this.config.proxy.replace(/^sips?:/, '').split(';')[0] ?? '';
  }

  /** register mode: extensions bound upstream now, and how many are configured. */
  registrationCounts(): { registered: number; total: number } {
    let registered = 0;
    for (const r of this.registrations.values()) if (r.state === 'registered') registered++;
    return { registered, total: this.registrations.size };
  }

  /**
   * May the gateway fail back to (or first go) `normal`? Always in trunk
   * mode; in register mode once every upstream registration has been
   * answered 2xx since the cloud came back, or the bounded wait is over.
   */
  registrationsFresh(): boolean {
    return this.config.mode !== 'register' || this.awaiting.size === 0;
  }

  /** register mode: the extensions failback is still waiting for. */
  registrationsAwaited(): string[] {
    return [...this.awaiting];
  }

  account(extension: string): CloudAccountConfig | undefined {
    return this.o.extensions.find((e) => e.number === extension)?.cloudAccount;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.peer.start();
    if (this.config.mode === 'register') this.startRegistrations();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.waitTimer?.cancel();
    this.waitTimer = undefined;
    this.peer.stop();
    await Promise.all([...this.registrations.values()].map((r) => r.stop().catch(() => undefined)));
    this.tls.release();
  }

  private startRegistrations(): void {
    const peer = this.peer.resolved;
    if (!peer) {
      // Not resolved yet: the peer retries; so do we.
      this.o.clock.setTimer(10_000, () => {
        if (this.running) this.startRegistrations();
      });
      return;
    }
    const scheme = schemeFor(peer);
    const tlsServerName = this.tls.serverNameFor(peer);
    for (const ext of this.o.extensions) {
      const account = ext.cloudAccount;
      if (!account || this.registrations.has(ext.number)) continue;
      const r = new Registration({
        ua: this.o.ua,
        clock: this.o.clock,
        registrar: `${scheme}:${this.domain}`,
        destination: peer.endpoint,
        aor: `<${scheme}:${account.username}@${this.domain}>`,
        credentials: { username: account.authUsername ?? account.username, password: account.password },
        expires: this.config.registerExpires,
        contactUser: ext.number,
        retry: { minMs: 2_000, maxMs: 60_000 },
        logger: this.o.logger,
        ...(tlsServerName ? { tlsServerName } : {}),
      });
      r.on('failed', ({ status }) => this.log.warn({ extension: ext.number, status }, 'upstream registration failed'));
      r.on('state', () => this.o.onChange());
      r.on('registered', () => this.refreshed(ext.number));
      this.registrations.set(ext.number, r);
      this.awaiting.add(ext.number);
      r.start();
    }
    // The cloud may have answered before the registrations were made.
    if (this.peer.health.state === 'up') this.startFailbackWait();
  }

  private onPeerHealth(c: HealthChange): void {
    if (this.config.mode === 'register' && this.running) {
      if (c.to === 'down') {
        // Nothing to wait for while the cloud is away; the next recovery starts a new round.
        this.waitTimer?.cancel();
        this.waitTimer = undefined;
      } else if (c.to === 'recovering' || (c.to === 'up' && c.from === 'down')) {
        this.refreshAll();
      }
      if (c.to === 'up') this.startFailbackWait();
    }
    this.o.onHealth(c);
  }

  /** The cloud is back: every binding is sent again now, and failback waits for the answers. */
  private refreshAll(): void {
    if (this.registrations.size === 0) return;
    this.log.info({ registrations: this.registrations.size }, 'the cloud answers again: refreshing the upstream registrations');
    for (const [ext, r] of this.registrations) {
      this.awaiting.add(ext);
      r.refreshNow();
    }
  }

  private refreshed(extension: string): void {
    if (!this.awaiting.delete(extension) || this.awaiting.size > 0) return;
    this.waitTimer?.cancel();
    this.waitTimer = undefined;
    this.log.info('upstream registrations refreshed');
    this.o.onRegistrationsFresh?.('registrations-refreshed');
  }

  /** The cloud is up: wait at most failbackWaitMs more for the registrations still awaited. */
  private startFailbackWait(): void {
    if (this.awaiting.size === 0 || this.waitTimer) return;
    const ms = this.o.failbackWaitMs ?? FAILBACK_REGISTRATION_WAIT_MS;
    this.log.info({ awaiting: this.awaiting.size, waitMs: ms }, 'the cloud is up; failing back once the upstream registrations are refreshed');
    this.waitTimer = this.o.clock.setTimer(ms, () => {
      this.waitTimer = undefined;
      if (!this.running || this.awaiting.size === 0) return;
      this.log.warn({ notRefreshed: [...this.awaiting], waitedMs: ms }, 'failing back without every upstream registration refreshed');
      this.awaiting.clear();
      this.o.onRegistrationsFresh?.('registration-wait-over');
    });
  }
}
