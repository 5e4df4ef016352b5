/**
 * The uplinks of one practice, together: the cloud SBC over HSCN and the
 * backup trunks, their health, the gateway's mode, and the routing of calls
 * across them. It implements the PBX's ExternalRoutes port
 * (pbx/external-routes.ts); gateway.ts builds it and hands it to the PBX.
 *
 * Upward it tells two things, as typed events (ARCHITECTURE.md, convention 1):
 * `mode` (normal ⇄ survivability, for the cloud sync's `events` topic and the
 * front panel) and `uplink` (one uplink's public state changed), and it
 * answers status(): the `mode` and `uplinks[].state` of /api/v1/status.
 *
 * Public uplink states (CONTRACT.md):
 *   up          healthy and carrying new calls: the cloud in normal mode; in
 *               survivability (or with no cloud) the first usable trunk
 *   standby     healthy and registered where it must be, not carrying new
 *               calls: the other trunks, or an uplink serving its
 *               recoverAfterMs after an outage
 *   registering a trunk whose first registration has not completed
 *   down        probes lost, interface down, or registration failing
 */
import { isDeepStrictEqual } from 'node:util';
import type { Practice, TrunkConfig } from '../config/practice-schema.js';
import type { ExternalRoutes, InboundDecision, OutboundCall, UplinkTarget } from '../pbx/external-routes.js';
import type { SipRequest } from '../sip/message/types.js';
import type { Endpoint } from '../sip/transport/api.js';
import { TypedEvents } from '../sip/ua/typed-events.js';
import type { UserAgentCore } from '../sip/ua/user-agent-core.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { CloudUplink } from './cloud-uplink.js';
import { FailoverMachine, type GatewayMode, type ModeChange, type ModeReason } from './failover.js';
import { routeInbound } from './inbound-routing.js';
import type { LinkStateSource } from './link-watcher.js';
import { outboundOrder, type UplinkStanding } from './outbound-order.js';
import type { PeerDns } from './peer-address.js';
import { FailoverTest, type FailoverTestTarget, type FailoverTestUplink } from './failover-test.js';
import type { ProbeOutcome } from './options-prober.js';
import { TrunkUplink } from './trunk-uplink.js';
import type { UplinkPeer } from './uplink-peer.js';
import { schemeFor, type ClientTlsPort, type ReadFile } from './uplink-tls.js';
import { canonicalDid, type DialPlanRules } from './uk-numbers.js';
import type { HealthChange, HealthState } from './uplink-health.js';
import { EMERGENCY_NO_PROGRESS_MS, EMERGENCY_RING_SECONDS, EXTERNAL_RING_SECONDS, cloudTarget, trunkTarget } from './uplink-targets.js';

export type UplinkState = 'up' | 'standby' | 'registering' | 'down';

export interface UplinkView {
  name: string;
  state: UplinkState;
}

/** Extra detail per uplink for diagnostics (not part of the status contract). */
export interface UplinkDetail extends UplinkView {
  kind: 'cloud' | 'trunk';
  health: HealthState;
  link: string | null;
  lastProbe: string | number | null;
  registration?: string;
}

export interface UplinkStateChange {
  name: string;
  state: UplinkState;
  previous: UplinkState;
  at: number;
}

export interface UplinkEvents {
  mode: ModeChange;
  uplink: UplinkStateChange;
}

export type InterfaceRole = 'lan' | 'hscn' | 'wan';

export interface UplinkManagerOptions {
  /** null: no practice yet (no uplinks until one is applied). */
  practice: Practice | null;
  ua: Pick<UserAgentCore, 'sendRequest' | 'contact'>;
  clock: Clock;
  logger: Logger;
  dns: PeerDns;
  /** The watch of the interface with this role, or (unnamed) the one facing this address. */
  linkFor: (role: InterfaceRole, peerAddress: string) => LinkStateSource;
  /** Register mode: the bound on failback's wait for upstream registrations (default 10 s). */
  failbackWaitMs?: number;
  /** TLS uplinks: the transport takes each uplink's CA and client certificate (setClientTls). */
  transport?: ClientTlsPort;
  /** How TLS files are read (default node:fs). */
  readFile?: ReadFile;
}

export class UplinkManager implements ExternalRoutes, FailoverTestTarget {
  private cloudUplink: CloudUplink | undefined;
  private trunkUplinks: TrunkUplink[] = [];
  private practice: Practice | null;
  private readonly log: Logger;
  private readonly events: TypedEvents<UplinkEvents>;
  private readonly failover: FailoverMachine;
  private rules: DialPlanRules = { countryCode: '44' };
  private dids: ReadonlyMap<string, string> = new Map();
  private readonly lastStates = new Map<string, UplinkState>();
  private started = false;
  /** A failover test's simulated HSCN outage: survivability until `until` (wall clock). */
  private simulation: { until: number; timer: TimerHandle } | undefined;
  /** `cmd/failover-test`: the cloud sync's FailoverTester port (gateway.ts passes it to createCloudSync). */
  readonly failoverTest: FailoverTest;

  constructor(private readonly o: UplinkManagerOptions) {
    this.log = o.logger.child({ component: 'uplinks' });
    this.events = new TypedEvents<UplinkEvents>(this.log);
    this.practice = o.practice;
    this.failover = new FailoverMachine(o.practice?.uplinks?.cloud !== undefined);
    this.readRules(o.practice);
    this.cloudUplink = this.makeCloud(o.practice);
    this.trunkUplinks = (o.practice?.uplinks?.trunks ?? []).map((t) => this.makeTrunk(t));
    for (const v of this.views()) this.lastStates.set(v.name, v.state);
    this.failoverTest = new FailoverTest(this, o.clock);
  }

  get cloud(): CloudUplink | undefined {
    return this.cloudUplink;
  }

  get trunks(): readonly TrunkUplink[] {
    return this.trunkUplinks;
  }

  /**
   * A new practice while running (issue 3's config push, step `uplinks`):
   * numbering and DIDs take effect at once; an uplink whose settings did not
   * change carries on untouched (its registration, its health, its calls);
   * a changed one is stopped and started afresh, a removed one stopped
   * (unregistered). Calls in progress are never touched: they hold their
   * own dialogs.
   */
  async apply(next: Practice | null): Promise<void> {
    const prev = this.practice;
    this.practice = next;
    this.readRules(next);
    const stops: Array<Promise<void>> = [];
    const starts: Array<Promise<void>> = [];

    const cloudBefore = prev?.uplinks?.cloud;
    const cloudAfter = next?.uplinks?.cloud;
    const accounts = (p: Practice | null) => (p?.extensions ?? []).map((e) => [e.number, e.cloudAccount ?? null]);
    const cloudSame =
      isDeepStrictEqual(cloudBefore, cloudAfter) && (cloudAfter?.mode !== 'register' || isDeepStrictEqual(accounts(prev), accounts(next)));
    if (!cloudSame) {
      const old = this.cloudUplink;
      if (old) stops.push(old.stop());
      this.cloudUplink = this.makeCloud(next);
      this.log.info({ before: cloudBefore?.proxy ?? null, after: cloudAfter?.proxy ?? null }, 'cloud uplink reconfigured');
      this.followCloud('reconfigured');
      if (this.started && this.cloudUplink) starts.push(this.cloudUplink.start());
    }

    const wanted = next?.uplinks?.trunks ?? [];
    const kept: TrunkUplink[] = [];
    for (const config of wanted) {
      const existing = this.trunkUplinks.find((t) => t.name === config.name);
      if (existing && isDeepStrictEqual(existing.config, config)) {
        kept.push(existing);
        continue;
      }
      if (existing) stops.push(existing.stop());
      const fresh = this.makeTrunk(config);
      kept.push(fresh);
      this.log.info({ trunk: config.name, replaced: existing !== undefined }, 'trunk configured');
      if (this.started) starts.push(fresh.start());
    }
    for (const t of this.trunkUplinks) {
      if (!wanted.some((c) => c.name === t.name)) {
        this.log.info({ trunk: t.name }, 'trunk removed');
        stops.push(t.stop());
      }
    }
    this.trunkUplinks = kept;
    for (const name of [...this.lastStates.keys()]) if (!this.views().some((v) => v.name === name)) this.lastStates.delete(name);
    this.refresh();
    await Promise.all([...starts, ...stops]);
  }

  private readRules(p: Practice | null): void {
    const countryCode = p?.dialPlan.countryCode ?? '44';
    const prefix = p?.dialPlan.outsideLinePrefix;
    this.rules = { countryCode, ...(prefix !== undefined ? { outsideLinePrefix: prefix } : {}) };
    this.dids = new Map((p?.inbound ?? []).map((r) => [canonicalDid(r.did, countryCode) ?? r.did, r.destination]));
  }

  private makeCloud(p: Practice | null): CloudUplink | undefined {
    const cloud = p?.uplinks?.cloud;
    if (!cloud) return undefined;
    const o = this.o;
    const made: CloudUplink = new CloudUplink({
      config: cloud,
      extensions: p.extensions,
      ua: o.ua,
      clock: o.clock,
      logger: o.logger,
      dns: o.dns,
      localDomain: p.sip.domain ?? 'pgw.invalid',
      linkFor: (addr) => o.linkFor(cloud.interface, addr),
      onChange: () => this.refresh(),
      // A replaced cloud uplink may still report while it stops: only the current one moves the mode.
      onHealth: (c) => {
        if (this.cloudUplink === made) this.onCloudHealth(c);
      },
      onRegistrationsFresh: (why) => {
        if (this.cloudUplink === made) this.followCloud(why);
      },
      ...(o.failbackWaitMs !== undefined ? { failbackWaitMs: o.failbackWaitMs } : {}),
      ...this.tlsDeps(),
    });
    return made;
  }

  private makeTrunk(t: TrunkConfig): TrunkUplink {
    const o = this.o;
    return new TrunkUplink({
      config: t,
      ua: o.ua,
      clock: o.clock,
      logger: o.logger,
      dns: o.dns,
      localDomain: this.practice?.sip.domain ?? 'pgw.invalid',
      linkFor: (addr) => o.linkFor(t.interface, addr),
      onChange: () => this.refresh(),
      onHealth: (c) => this.onTrunkHealth(t.name, c),
      ...this.tlsDeps(),
    });
  }

  private tlsDeps(): { transport?: ClientTlsPort; readFile?: ReadFile } {
    return { ...(this.o.transport ? { transport: this.o.transport } : {}), ...(this.o.readFile ? { readFile: this.o.readFile } : {}) };
  }

  on<K extends keyof UplinkEvents>(name: K, fn: (e: UplinkEvents[K]) => void): () => void {
    return this.events.on(name, fn);
  }

  get mode(): GatewayMode {
    return this.failover.mode;
  }

  /** Resolve, probe and register every uplink; resolves once each has been started. */
  async start(): Promise<void> {
    this.started = true;
    this.log.info(
      { mode: this.mode, cloud: this.cloud ? `${this.cloud.config.proxy} (${this.cloud.mode})` : null, trunks: this.trunks.map((t) => t.name) },
      'uplinks starting',
    );
    await Promise.all([this.cloud?.start(), ...this.trunks.map((t) => t.start())]);
  }

  /** Stop probing and unregister, within `deadlineMs`. */
  async stop(deadlineMs = 2_000): Promise<void> {
    this.started = false;
    this.simulation?.timer.cancel();
    this.simulation = undefined;
    const all = Promise.all([this.cloud?.stop(), ...this.trunks.map((t) => t.stop())]);
    await Promise.race([all, new Promise((r) => this.o.clock.setTimer(deadlineMs, () => r(undefined)))]);
  }

  // ─────────────────────────── status ───────────────────────────

  status(): { mode: GatewayMode; uplinks: UplinkView[] } {
    return { mode: this.mode, uplinks: this.views() };
  }

  details(): UplinkDetail[] {
    const views = new Map(this.views().map((v) => [v.name, v.state]));
    const out: UplinkDetail[] = [];
    if (this.cloud) {
      const c = this.cloud;
      out.push({
        name: c.name,
        kind: 'cloud',
        state: views.get(c.name) ?? 'down',
        health: c.peer.health.state,
        link: c.peer.linkDescription ?? null,
        lastProbe: c.peer.lastProbe?.status ?? null,
        ...(c.mode === 'register' ? { registration: `${c.registrationCounts().registered}/${c.registrationCounts().total}` } : {}),
      });
    }
    for (const t of this.trunks) {
      out.push({
        name: t.name,
        kind: 'trunk',
        state: views.get(t.name) ?? 'down',
        health: t.callPeer.health.state,
        link: t.callPeer.linkDescription ?? null,
        lastProbe: t.callPeer.lastProbe?.status ?? null,
        registration: t.registrationState,
      });
    }
    return out;
  }

  private views(): UplinkView[] {
    const out: UplinkView[] = [];
    const carrier = this.externalCarrier();
    if (this.cloud) {
      const h = this.cloud.peer.health.state;
      const state: UplinkState = carrier === this.cloud.name ? 'up' : h === 'recovering' || (this.cloud.peer.health.usable && this.mode === 'survivability') ? 'standby' : 'down';
      out.push({ name: this.cloud.name, state });
    }
    for (const t of this.trunks) {
      const h = t.callPeer.health;
      let state: UplinkState;
      if (h.state === 'down') state = 'down';
      else if (t.neverRegistered && t.registrationState !== 'retrying') state = 'registering';
      else if (!t.registered) state = 'down';
      else if (carrier === t.name) state = 'up';
      else if (h.usable || h.state === 'recovering') state = 'standby';
      else state = 'down';
      out.push({ name: t.name, state });
    }
    return out;
  }

  /** The uplink new external calls go to now, if any. */
  private externalCarrier(): string | undefined {
    return outboundOrder('external', this.mode, this.standings())[0];
  }

  private standings(): UplinkStanding[] {
    const out: UplinkStanding[] = [];
    if (this.cloud) out.push({ name: this.cloud.name, kind: 'cloud', health: this.cloud.peer.health.state, usable: this.cloud.peer.health.usable });
    for (const t of this.trunks) out.push({ name: t.name, kind: 'trunk', health: t.callPeer.health.state, usable: t.usable });
    return out;
  }

  // ─────────────────────────── failover test ───────────────────────────

  /** Force survivability for `seconds` (a failover test), then follow the cloud's health again. */
  simulateHscnDown(seconds: number): void {
    this.simulation?.timer.cancel();
    const ms = seconds * 1000;
    const timer = this.o.clock.setTimer(ms, () => {
      if (this.simulation?.timer !== timer) return;
      this.simulation = undefined;
      this.log.info('failover test over: the mode follows the cloud again');
      this.followCloud('failover-test-over');
    });
    this.simulation = { until: this.o.clock.now() + ms, timer };
    this.log.warn({ seconds }, `failover test: HSCN simulated down for ${seconds} s`);
    this.followCloud('failover-test');
  }

  simulationUntil(): number | undefined {
    return this.simulation?.until;
  }

  /** Which uplink a new external call would go to now, and a 999 call's order. */
  wouldCarry(): { external: string | null; emergency: string[] } {
    return { external: this.externalCarrier() ?? null, emergency: outboundOrder('emergency', this.mode, this.standings()) };
  }

  /** One OPTIONS to every uplink now (not fed to their health), with each one's state. */
  async probeAll(): Promise<Array<Omit<FailoverTestUplink, 'probe'> & { outcome: ProbeOutcome & { reason?: string } }>> {
    const peers: Array<{ peer: UplinkPeer; base: Omit<FailoverTestUplink, 'probe' | 'state'> }> = [];
    const cloud = this.cloud;
    if (cloud) {
      const counts = cloud.registrationCounts();
      peers.push({
        peer: cloud.peer,
        base: { name: cloud.name, kind: 'cloud', health: cloud.peer.health.state, peer: endpointOf(cloud.peer), registration: cloud.mode === 'register' ? counts : null },
      });
    }
    for (const t of this.trunks) {
      peers.push({
        peer: t.callPeer,
        base: { name: t.name, kind: 'trunk', health: t.callPeer.health.state, peer: endpointOf(t.callPeer), registration: t.registrationState },
      });
    }
    const outcomes = await Promise.all(peers.map(({ peer }) => peer.probeOnce()));
    // States as they are once the probes are back (the probes themselves move nothing).
    const states = new Map(this.views().map((v) => [v.name, v.state]));
    return peers.map(({ base }, i) => ({ ...base, state: states.get(base.name) ?? 'down', outcome: outcomes[i]! }));
  }

  // ─────────────────────────── health and mode ───────────────────────────

  private onCloudHealth(c: HealthChange): void {
    this.followCloud(c.reason);
  }

  /**
   * The mode follows the current cloud uplink's health (none: normal), but
   * stays in survivability while a failover test simulates HSCN down, and
   * (register mode) until the upstream registrations are refreshed.
   */
  private followCloud(reason: ModeReason): void {
    const cloud = this.cloudUplink;
    const health = cloud && this.simulation ? 'down' : cloud?.peer.health.state;
    const hold = cloud !== undefined && !cloud.registrationsFresh();
    const change = this.failover.follow(health, reason, this.o.clock.now(), hold);
    if (change) {
      const line = { mode: change.mode, previous: change.previous, reason: change.reason };
      if (change.mode === 'survivability') this.log.warn(line, `mode ${change.mode}: the cloud is unreachable (${change.reason}); external calls go over the backup trunks`);
      else this.log.info(line, `mode ${change.mode}: the cloud carries external calls again (${change.reason})`);
      this.events.emit('mode', change);
    }
    this.refresh();
  }

  private onTrunkHealth(name: string, c: HealthChange): void {
    if (c.to === 'recovering' || c.to === 'up') this.trunks.find((t) => t.name === name)?.retryRegistrationNow();
    this.refresh();
  }

  /** Recompute the public states and tell what moved. */
  private refresh(): void {
    const at = this.o.clock.now();
    for (const v of this.views()) {
      const previous = this.lastStates.get(v.name);
      if (previous === v.state) continue;
      this.lastStates.set(v.name, v.state);
      if (previous === undefined) continue;
      this.log.info({ uplink: v.name, state: v.state, previous }, `uplink ${v.name} is ${v.state}`);
      this.events.emit('uplink', { name: v.name, state: v.state, previous, at });
    }
  }

  // ─────────────────────────── ExternalRoutes ───────────────────────────

  hasUplinks(): boolean {
    return this.cloud !== undefined || this.trunks.length > 0;
  }

  outbound(request: OutboundCall): UplinkTarget[] {
    // The extension's own DID, when the PBX did not say (the practice document has it).
    const own = request.caller.outboundCallerId ?? this.practice?.extensions.find((e) => e.number === request.caller.number)?.outboundCallerId;
    const call: OutboundCall = own !== undefined ? { ...request, caller: { ...request.caller, outboundCallerId: own } } : request;
    const names = outboundOrder(call.kind, this.mode, this.standings());
    const targets: UplinkTarget[] = [];
    for (const name of names) {
      const t = this.targetFor(name, call);
      if (t) targets.push(t);
    }
    if (call.kind === 'emergency') {
      // Every target but the last moves on if the uplink stays silent; the last waits for the transaction's own timeout.
      return targets.map((t, i) => (i < targets.length - 1 ? { ...t, noProgressMs: EMERGENCY_NO_PROGRESS_MS } : t));
    }
    return targets;
  }

  private targetFor(name: string, call: OutboundCall): UplinkTarget | undefined {
    const ringSeconds = call.kind === 'emergency' ? EMERGENCY_RING_SECONDS : EXTERNAL_RING_SECONDS;
    if (this.cloud && name === this.cloud.name) {
      const peer = this.cloud.peer.resolved;
      if (!peer) return undefined;
      const account = this.cloud.mode === 'register' ? this.cloud.account(call.caller.number) : undefined;
      const tlsServerName = this.cloud.peer.tlsServerName;
      return {
        uplink: name,
        ringSeconds,
        ...cloudTarget({
          call,
          rules: this.rules,
          destination: peer.endpoint,
          domain: this.cloud.domain,
          scheme: schemeFor(peer),
          ...(account ? { account } : {}),
        }),
        ...(tlsServerName ? { tlsServerName } : {}),
      };
    }
    const trunk = this.trunks.find((t) => t.name === name);
    const destination = trunk?.callDestination;
    if (!trunk || !destination) return undefined;
    const mainNumber = this.practice?.site.mainNumber;
    const tlsServerName = trunk.callTlsServerName;
    return {
      uplink: name,
      ringSeconds,
      ...(tlsServerName ? { tlsServerName } : {}),
      ...trunkTarget({
        call,
        rules: this.rules,
        destination,
        domain: trunk.domainHostPort,
        scheme: trunk.callScheme,
        format: trunk.numberFormat,
        username: trunk.config.username,
        credentials: trunk.credentials,
        ...(trunk.config.callerId !== undefined ? { trunkCallerId: trunk.config.callerId } : {}),
        ...(mainNumber !== undefined ? { mainNumber } : {}),
      }),
    };
  }

  inbound(request: SipRequest, source: Endpoint): InboundDecision | null {
    const countryCode = this.rules.countryCode;
    if (this.cloud?.peer.owns(source.address)) {
      return routeInbound(request, { uplink: this.cloud.name, kind: 'cloud', dids: this.dids, countryCode });
    }
    const trunk = this.trunks.find((t) => t.owns(source.address));
    if (trunk) return routeInbound(request, { uplink: trunk.name, kind: 'trunk', dids: this.dids, countryCode });
    return null;
  }
}

function endpointOf(peer: UplinkPeer): string | null {
  const e = peer.resolved?.endpoint;
  return e ? `${e.protocol}:${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}` : null;
}
