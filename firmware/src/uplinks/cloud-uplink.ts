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
 * the link — when the cloud answers again after an outage, registrations
 * that were waiting out a backoff are retried at once, so they are fresh by
 * the time recoverAfterMs has passed and the gateway fails back.
 */
import type { CloudAccountConfig, CloudUplinkConfig } from '../config/practice-schema.js';
import { Registration } from '../sip/ua/registration.js';
import type { UserAgentCore } from '../sip/ua/user-agent-core.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { LinkStateSource } from './link-watcher.js';
import { uriHostPort, type PeerDns } from './peer-address.js';
import type { HealthChange } from './uplink-health.js';
import { UplinkPeer } from './uplink-peer.js';

export const CLOUD_UPLINK_NAME = 'cloud';

export interface CloudExtension {
  number: string;
  cloudAccount?: CloudAccountConfig;
}

export interface CloudUplinkOptions {
  config: CloudUplinkConfig;
  extensions: readonly CloudExtension[];
  ua: Pick<UserAgentCore, 'sendRequest' | 'contact'>;
  clock: Clock;
  logger: Logger;
  dns: PeerDns;
  localDomain: string;
  linkFor: (peerAddress: string) => LinkStateSource;
  onChange: () => void;
  onHealth: (change: HealthChange) => void;
}

export class CloudUplink {
  readonly name = CLOUD_UPLINK_NAME;
  readonly config: CloudUplinkConfig;
  readonly peer: UplinkPeer;
  private readonly registrations = new Map<string, Registration>();
  private readonly log: Logger;
  private running = false;

  constructor(private readonly o: CloudUplinkOptions) {
    this.config = o.config;
    this.log = o.logger.child({ component: 'uplink', uplink: CLOUD_UPLINK_NAME });
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
      onHealth: (c) => {
        if (c.to === 'recovering' || c.to === 'up') this.retryRegistrationsNow();
        o.onHealth(c);
      },
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
    this.peer.stop();
    await Promise.all([...this.registrations.values()].map((r) => r.stop().catch(() => undefined)));
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
    const scheme = peer.endpoint.protocol === 'tls' ? 'sips' : 'sip';
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
      });
      r.on('failed', ({ status }) => this.log.warn({ extension: ext.number, status }, 'upstream registration failed'));
      r.on('state', () => this.o.onChange());
      this.registrations.set(ext.number, r);
      r.start();
    }
  }

  private retryRegistrationsNow(): void {
    for (const r of this.registrations.values()) {
      if (r.state !== 'retrying') continue;
      void r.stop().then(() => {
        if (this.running) r.start();
      });
    }
  }
}
