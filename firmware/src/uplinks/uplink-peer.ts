/**
 * One uplink peer watched for health: its URI resolved to an address
 * (peer-address.ts, again every few minutes), OPTIONS probes to it
 * (options-prober.ts), the interface it is reached by (link-watcher.ts),
 * and the health machine that turns those into a state (uplink-health.ts).
 *
 * The interface is watched from the first resolution on, because which
 * interface faces the peer may have to be found from the routing table,
 * which needs its address.
 */
import type { ProbeConfig } from '../config/practice-schema.js';
import type { UserAgentCore } from '../sip/ua/user-agent-core.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { LinkStateSource } from './link-watcher.js';
import { OptionsProber, isProbeAnswer, type ProbeOutcome } from './options-prober.js';
import { resolvePeer, uriHostPort, type PeerDns, type ResolvedPeer } from './peer-address.js';
import { UplinkHealth, type HealthChange } from './uplink-health.js';
import { schemeFor, type ClientTlsPort, type ReadFile, type UplinkTls } from './uplink-tls.js';

/** Resolutions are redone this often (DNS TTLs of SBC names are minutes). */
export const RESOLVE_EVERY_MS = 300_000;
/** After a failed resolution, try again this soon. */
export const RESOLVE_RETRY_MS = 10_000;

/** What the cloud uplink and each trunk are built with, besides their own config. */
export interface UplinkCommonOptions {
  ua: Pick<UserAgentCore, 'sendRequest' | 'contact'>;
  clock: Clock;
  logger: Logger;
  dns: PeerDns;
  localDomain: string;
  linkFor: (peerAddress: string) => LinkStateSource;
  onChange: () => void;
  onHealth: (change: HealthChange) => void;
  /** TLS uplinks: where the CA and client certificate go (the transport), and how files are read. */
  transport?: ClientTlsPort;
  readFile?: ReadFile;
}

export interface UplinkPeerOptions {
  /** The uplink's name, for logs. */
  name: string;
  /** The URI probed (the proxy, else the registrar). */
  uri: string;
  probe: ProbeConfig;
  ua: Pick<UserAgentCore, 'sendRequest'>;
  clock: Clock;
  logger: Logger;
  dns: PeerDns;
  /** From of the probes: `<sip:pgw@DOMAIN>`. */
  localDomain: string;
  /** The interface watch, made once the peer's address is known. */
  linkFor: (peerAddress: string) => LinkStateSource;
  onHealth: (change: HealthChange) => void;
  /** TLS toward this peer: its server name, CA and client certificate (uplink-tls.ts). */
  tls?: UplinkTls;
}

export class UplinkPeer {
  readonly health: UplinkHealth;
  private readonly log: Logger;
  private readonly prober: OptionsProber;
  private resolvedValue: ResolvedPeer | undefined;
  private link: LinkStateSource | undefined;
  private resolveTimer: TimerHandle | undefined;
  private running = false;
  private lastOutcome: ProbeOutcome | undefined;
  /** Why the peer cannot be contacted over TLS (its files could not be read), if so. */
  private tlsProblem: string | undefined;
  /** The last failed probe's status and reason phrase (a stand-in's says what failed: a refused certificate...). */
  private lastFailure: string | undefined;

  constructor(private readonly o: UplinkPeerOptions) {
    this.log = o.logger.child({ component: 'uplink', uplink: o.name });
    this.health = new UplinkHealth({ failAfter: o.probe.failAfter, recoverAfterMs: o.probe.recoverAfterMs }, (c) => {
      const why = c.to === 'down' || c.to === 'suspect' ? this.lastFailure : undefined;
      const line = { from: c.from, to: c.to, reason: c.reason, lastProbe: this.lastOutcome?.status, ...(why ? { why } : {}) };
      if (c.to === 'down') this.log.warn(line, `uplink ${o.name} ${c.to} (${c.reason})${why ? `: ${why}` : ''}`);
      else this.log.info(line, `uplink ${o.name} ${c.to} (${c.reason})`);
      o.onHealth(c);
    });
    this.prober = new OptionsProber({
      clock: o.clock,
      intervalMs: o.probe.intervalMs,
      timeoutMs: o.probe.timeoutMs ?? o.probe.intervalMs,
      send: () => this.sendProbe(),
      onOutcome: (outcome) => this.onProbe(outcome),
      // Hurry only while deciding whether a working uplink has died; a dead one is probed at the normal pace.
      hurry: () => this.health.state === 'up' || this.health.state === 'suspect' || this.health.state === 'unknown',
    });
  }

  get resolved(): ResolvedPeer | undefined {
    return this.resolvedValue;
  }

  /** The name the peer's TLS certificate must match (RFC 5922), when reached over TLS. */
  get tlsServerName(): string | undefined {
    const r = this.resolvedValue;
    return r ? this.o.tls?.serverNameFor(r) : undefined;
  }

  get linkDescription(): string | undefined {
    return this.link?.description;
  }

  get lastProbe(): ProbeOutcome | undefined {
    return this.lastOutcome;
  }

  /** The last failed probe's status and reason, e.g. `503 Transport Error: ... certificate ...`. */
  get lastProbeFailure(): string | undefined {
    return this.lastFailure;
  }

  /** Resolve, then probe; resolves once the first resolution has been tried. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.resolve();
    if (this.running) this.prober.start();
  }

  stop(): void {
    this.running = false;
    this.prober.stop();
    this.link?.stop();
    this.resolveTimer?.cancel();
    this.resolveTimer = undefined;
  }

  /** Does a request from this address come from the peer? */
  owns(address: string): boolean {
    return this.resolvedValue?.addresses.includes(address) ?? false;
  }

  private async resolve(): Promise<void> {
    try {
      const r = await resolvePeer(this.o.uri, this.o.dns);
      if (!this.running) return;
      const moved = this.resolvedValue && this.resolvedValue.endpoint.address !== r.endpoint.address;
      this.resolvedValue = r;
      if (moved) this.log.info({ endpoint: r.endpoint }, 'uplink peer address changed');
      if (!this.link) this.watchLink(r.endpoint.address);
      if (!(await this.prepareTls(r))) return;
      this.resolveTimer = this.o.clock.setTimer(RESOLVE_EVERY_MS, () => void this.resolve());
    } catch (err) {
      if (!this.running) return;
      this.log.warn({ err, uri: this.o.uri }, 'uplink peer does not resolve; retrying');
      this.resolveTimer = this.o.clock.setTimer(RESOLVE_RETRY_MS, () => void this.resolve());
    }
  }

  /** The uplink's CA and client certificate for this address; false (retry scheduled) when they cannot be had. */
  private async prepareTls(r: ResolvedPeer): Promise<boolean> {
    if (!this.o.tls) return true;
    try {
      await this.o.tls.prepare(r.endpoint);
      if (this.tlsProblem) this.log.info('uplink TLS settings in place');
      this.tlsProblem = undefined;
      return true;
    } catch (err) {
      if (!this.running) return false;
      this.tlsProblem = (err as Error).message;
      this.log.error({ err }, 'uplink TLS files unusable: the uplink is not contacted until they are');
      this.resolveTimer = this.o.clock.setTimer(RESOLVE_RETRY_MS, () => void this.resolve());
      return false;
    }
  }

  private watchLink(address: string): void {
    const link = this.o.linkFor(address);
    this.link = link;
    this.log.info({ link: link.description, endpoint: this.resolvedValue?.endpoint }, 'watching the uplink');
    if (link.current() === 'down') this.health.linkDown();
    link.start((state) => {
      if (!this.running) return;
      if (state === 'down') {
        this.log.warn({ link: link.description }, 'uplink interface down');
        this.health.linkDown();
      } else {
        this.log.info({ link: link.description }, 'uplink interface up again');
        this.health.linkRestored();
        // Do not wait out the interval to start proving the link again.
        this.prober.probeNow();
      }
    });
  }

  /**
   * One OPTIONS now, outside the schedule, for a failover test: answered or
   * lost within the probe timeout like any probe, with its round trip; not
   * fed to the health machine (a test must not move the uplink's state).
   */
  probeOnce(): Promise<ProbeOutcome & { reason?: string }> {
    const clock = this.o.clock;
    const started = clock.monotonic();
    return new Promise((resolve) => {
      const timer = clock.setTimer(this.o.probe.timeoutMs ?? this.o.probe.intervalMs, () => resolve({ ok: false, status: 'timeout', reason: 'no answer in time' }));
      const settle = (status: number): void => {
        timer.cancel();
        resolve(
          isProbeAnswer(status)
            ? { ok: true, status, rttMs: clock.monotonic() - started }
            : { ok: false, status, ...(this.lastFailure ? { reason: this.lastFailure } : {}) },
        );
      };
      this.sendProbe().then(settle, () => settle(503));
    });
  }

  private async sendProbe(): Promise<number> {
    const peer = this.resolvedValue;
    if (!peer) {
      this.lastFailure = 'the peer does not resolve';
      return 503;
    }
    if (this.link?.current() === 'down') {
      this.lastFailure = 'interface down';
      return 503;
    }
    if (this.tlsProblem) {
      this.lastFailure = this.tlsProblem;
      return 503;
    }
    const scheme = schemeFor(peer);
    const target = `${scheme}:${uriHostPort(peer)}`;
    const tlsServerName = this.o.tls?.serverNameFor(peer);
    const { response } = await this.o.ua.sendRequest({
      method: 'OPTIONS',
      uri: target,
      destination: peer.endpoint,
      from: `<${scheme}:pgw@${this.o.localDomain}>`,
      to: `<${target}>`,
      headers: [['Accept', 'application/sdp']],
      ...(tlsServerName ? { tlsServerName } : {}),
    });
    this.lastFailure = isProbeAnswer(response.status) ? undefined : `${response.status} ${response.reason}`;
    return response.status;
  }

  private onProbe(outcome: ProbeOutcome): void {
    this.lastOutcome = outcome;
    if (outcome.status === 'timeout') this.lastFailure = 'no answer in time';
    if (!this.running) return;
    if (outcome.ok) this.health.probeAnswered(this.o.clock.monotonic());
    else {
      if (this.health.state !== 'down') this.log.debug({ status: outcome.status }, 'probe lost');
      this.health.probeLost();
    }
  }
}
