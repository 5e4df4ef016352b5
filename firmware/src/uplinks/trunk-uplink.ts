/**
 * A backup SIP trunk over the WAN or 4G (issue 6): kept registered at all
 * times (hot standby), so that failover needs no registration round trip,
 * and probed like the cloud so that a dead trunk is skipped.
 *
 * Registration: one binding of `sip:USERNAME@REGISTRAR-HOST` whose Contact
 * carries the address of the interface facing the registrar (the UA core's
 * contact() uses the transport's localFor). 401/407 are answered with the
 * trunk's credentials (the UA core's sendRequest); failures are retried with
 * backoff (RFC 3261 §10.2, sip/ua/registration.ts).
 *
 * Calls go to the proxy when there is one, else to the registrar; the
 * probes go where the calls go.
 */
import type { TrunkConfig } from '../config/practice-schema.js';
import type { Endpoint } from '../sip/transport/api.js';
import type { Credentials } from '../sip/ua/credentials.js';
import { Registration, type RegistrationState } from '../sip/ua/registration.js';
import type { Logger } from '../util/logger.js';
import { resolvePeer, uriHostPort, type ResolvedPeer } from './peer-address.js';
import { UplinkPeer, type UplinkCommonOptions } from './uplink-peer.js';
import { UplinkTls, schemeFor } from './uplink-tls.js';
import type { NumberFormat } from './uk-numbers.js';

export interface TrunkUplinkOptions extends UplinkCommonOptions {
  config: TrunkConfig;
  /** Registration retry backoff; defaults suit a trunk (1 s doubling to 60 s). */
  retry?: { minMs?: number; maxMs?: number };
}

export class TrunkUplink {
  readonly name: string;
  readonly config: TrunkConfig;
  /** Where calls go (and probes): the proxy, else the registrar. */
  readonly callPeer: UplinkPeer;
  /** How this trunk wants numbers (`numberFormat`, default E.164). */
  readonly numberFormat: NumberFormat;
  private readonly tls: UplinkTls;
  private registrarPeer: ResolvedPeer | undefined;
  private registration: Registration | undefined;
  private readonly log: Logger;
  private running = false;
  private everRegistered = false;

  constructor(private readonly o: TrunkUplinkOptions) {
    this.name = o.config.name;
    this.config = o.config;
    this.numberFormat = o.config.numberFormat;
    this.log = o.logger.child({ component: 'uplink', uplink: o.config.name });
    this.tls = new UplinkTls({ name: o.config.name, config: o.config.tls, transport: o.transport, ...(o.readFile ? { readFile: o.readFile } : {}) });
    this.callPeer = new UplinkPeer({
      name: o.config.name,
      uri: o.config.proxy ?? o.config.registrar,
      probe: o.config.probe,
      ua: o.ua,
      clock: o.clock,
      logger: o.logger,
      dns: o.dns,
      localDomain: o.localDomain,
      linkFor: o.linkFor,
      onHealth: (c) => o.onHealth(c),
      tls: this.tls,
    });
  }

  get credentials(): Credentials {
    return { username: this.config.authUsername ?? this.config.username, password: this.config.password };
  }

  get registrationState(): RegistrationState {
    return this.registration?.state ?? 'idle';
  }

  /** Registered now (a refresh in flight keeps it registered). */
  get registered(): boolean {
    return this.registration?.state === 'registered';
  }

  /** Healthy and registered: can take a new call. */
  get usable(): boolean {
    return this.callPeer.health.usable && this.registered;
  }

  /** Has never completed a registration yet (status `registering`). */
  get neverRegistered(): boolean {
    return !this.everRegistered;
  }

  /** The registrar's host (and port as written): the domain of the trunk's URIs. */
  get domainHostPort(): string {
    const r = this.registrarPeer;
    if (r) return uriHostPort(r);
    return this.config.registrar.replace(/^sips?:/, '').split(';')[0] ?? '';
  }

  get callDestination(): Endpoint | undefined {
    return this.callPeer.resolved?.endpoint;
  }

  /** The name the call peer's TLS certificate must match (RFC 5922), when calls go over TLS. */
  get callTlsServerName(): string | undefined {
    return this.callPeer.tlsServerName;
  }

  /** sips: toward the call peer when its URI is sips:. */
  get callScheme(): 'sip' | 'sips' {
    const r = this.callPeer.resolved;
    return r ? schemeFor(r) : 'sip';
  }

  owns(address: string): boolean {
    return this.callPeer.owns(address) || (this.registrarPeer?.addresses.includes(address) ?? false);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.callPeer.start();
    await this.startRegistration();
  }

  /** Unregister (bounded by the caller's deadline) and stop probing. */
  async stop(): Promise<void> {
    this.running = false;
    this.callPeer.stop();
    await this.registration?.stop().catch((err: unknown) => this.log.warn({ err }, 'unregister failed'));
    this.tls.release();
  }

  private async startRegistration(): Promise<void> {
    let peer: ResolvedPeer;
    try {
      peer = this.config.proxy ? await resolvePeer(this.config.registrar, this.o.dns) : (this.callPeer.resolved ?? (await resolvePeer(this.config.registrar, this.o.dns)));
    } catch (err) {
      if (!this.running) return;
      this.log.warn({ err }, 'trunk registrar does not resolve; retrying in 10 s');
      this.o.clock.setTimer(10_000, () => void this.startRegistration());
      return;
    }
    if (!this.running) return;
    try {
      // The registrar's own address when it is not the call peer (already prepared by its UplinkPeer).
      await this.tls.prepare(peer.endpoint);
    } catch (err) {
      if (!this.running) return;
      this.log.error({ err }, 'trunk TLS files unusable: not registering; retrying in 10 s');
      this.o.clock.setTimer(10_000, () => void this.startRegistration());
      return;
    }
    if (!this.running) return;
    this.registrarPeer = peer;
    const scheme = schemeFor(peer);
    const tlsServerName = this.tls.serverNameFor(peer);
    const host = uriHostPort(peer);
    const registration = new Registration({
      ua: this.o.ua,
      clock: this.o.clock,
      registrar: `${scheme}:${host}`,
      destination: peer.endpoint,
      aor: `<${scheme}:${this.config.username}@${host}>`,
      credentials: this.credentials,
      expires: this.config.registerExpires,
      contactUser: this.config.username,
      retry: { minMs: this.o.retry?.minMs ?? 1_000, maxMs: this.o.retry?.maxMs ?? 60_000 },
      logger: this.o.logger,
      ...(tlsServerName ? { tlsServerName } : {}),
    });
    this.registration = registration;
    registration.on('state', ({ from, to }) => {
      this.log.info({ from, to }, `trunk registration ${to}`);
      this.o.onChange();
    });
    registration.on('registered', ({ expires }) => {
      if (!this.everRegistered) this.log.info({ expires }, 'trunk registered (hot standby)');
      this.everRegistered = true;
      this.o.onChange();
    });
    registration.on('failed', ({ status, retryInMs }) => {
      this.log.warn({ status, retryInMs }, 'trunk registration failed');
      this.o.onChange();
    });
    registration.start();
  }

  /** The interface came back or the peer answers again after an outage: do not wait out the backoff. */
  retryRegistrationNow(): void {
    const r = this.registration;
    if (!r || r.state !== 'retrying') return;
    void r.stop().then(() => {
      if (this.running) r.start();
    });
  }
}
