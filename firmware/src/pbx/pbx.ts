/**
 * The PBX: what the gateway does with each request the SIP stack hands up.
 * REGISTER goes to the registrar; OPTIONS to the gateway itself is answered
 * 200 without authentication (phones and peers use it as a keep-alive,
 * CONTRACT.md); INVITE from an extension is authenticated, resolved through
 * the dial plan and becomes a B2BUA call. Nothing below this layer knows
 * what a hunt group is.
 *
 * Calls that leave the building (external numbers, 999/112) are handed to
 * the ExternalRoutes port (external-routes.ts, implemented by uplinks/):
 * each uplink target it gives is one ring step, so an emergency call whose
 * first uplink fails is tried on the next. INVITEs from an uplink peer
 * (recognised by the same port, by source address) skip digest auth and
 * ring the extension or hunt group their DID or Request-URI names.
 */
import { randomUUID } from 'node:crypto';
import type { MediaAnchor, RelayLeg } from '../media/relay/index.js';
import type { DigestServer } from '../sip/auth/index.js';
import { createResponse, generateTag, parseNameAddr, type SipRequest } from '../sip/message/index.js';
import type { ServerTransaction } from '../sip/transaction/api.js';
import type { InboundMessage, TransportLayer } from '../sip/transport/api.js';
import type { InviteSession } from '../sip/ua/invite-session.js';
import type { UserAgentCore, UserAgentDelegate } from '../sip/ua/user-agent-core.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { B2buaCall, type CallEnd, type CallParty, type CallState, type CallTarget } from './b2bua-call.js';
import type { ExternalRoutes, InboundDecision, UplinkTarget } from './external-routes.js';
import { resolveDestination } from './dial-plan.js';
import type { Directory } from './directory.js';
import type { FailureThrottle } from './failure-throttle.js';
import { huntPlan, type RingStep } from './hunt-plan.js';
import type { LocationService } from './location-service.js';
import { userOf, type Registrar } from './registrar.js';

/** Methods the gateway answers itself (Allow, RFC 3261 §20.5). */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'UPDATE', 'PRACK', 'INFO'];

export interface PbxOptions {
  ua: UserAgentCore;
  transport: Pick<TransportLayer, 'localFor'>;
  relay: MediaAnchor;
  clock: Clock;
  logger: Logger;
  location: LocationService;
  registrar: Registrar;
  auth: Pick<DigestServer, 'challenge' | 'verify'>;
  throttle: FailureThrottle;
  directory: () => Directory;
  codecs: () => readonly string[];
  /** Where calls that leave the building go, and how calls from outside are recognised (issue 6); absent: internal calls only. */
  routes?: ExternalRoutes;
  /** The practice's outside-line digit, if any (dialPlan.outsideLinePrefix). */
  outsideLinePrefix?: () => string | undefined;
}

/** How a call reached the gateway and, for calls through an uplink, which one (call records, issue 3). */
export interface CallRoute {
  direction: 'internal' | 'inbound' | 'outbound';
  /** `cloud` or a trunk's name; absent for internal calls. */
  uplink?: string;
}

export type CallEvent =
  | { type: 'ringing' | 'answered'; call: B2buaCall; route: CallRoute }
  | { type: 'ended'; call: B2buaCall; end: CallEnd; route: CallRoute };

export class Pbx implements UserAgentDelegate {
  private readonly log: Logger;
  private readonly calls = new Map<string, B2buaCall>();
  private readonly callRoutes = new Map<string, CallRoute>();
  private readonly listeners = new Set<(e: CallEvent) => void>();
  private accepting = true;

  constructor(private readonly options: PbxOptions) {
    this.log = options.logger.child({ component: 'pbx' });
    options.relay.on('dead', ({ leg, silentMs }) => this.onDeadMedia(leg, silentMs));
  }

  onCallEvent(listener: (e: CallEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  activeCalls(): B2buaCall[] {
    return [...this.calls.values()];
  }

  /** SIGTERM, or an update about to reboot: new calls get 503 with Retry-After; calls up carry on. */
  stopAcceptingCalls(): void {
    this.accepting = false;
  }

  resumeAcceptingCalls(): void {
    this.accepting = true;
  }

  hangupAll(cause: string): void {
    for (const call of this.calls.values()) call.hangup(cause);
  }

  // ─────────────────────────── requests ───────────────────────────

  onRequest(request: SipRequest, tx: ServerTransaction | null, inbound: InboundMessage): void {
    if (!tx) return; // a stray ACK: nothing to do
    const reply = (status: number, reason?: string, headers: Array<[string, string]> = []): void =>
      tx.respond(createResponse(request, status, reason, { toTag: generateTag(), headers }));
    switch (request.method) {
      case 'REGISTER':
        this.options.registrar.handle(request, tx, inbound);
        return;
      case 'OPTIONS':
        reply(200, 'OK', [
          ['Allow', ALLOWED_METHODS.join(', ')],
          ['Accept', 'application/sdp'],
          ['Supported', 'replaces, timer, 100rel'],
        ]);
        return;
      case 'SUBSCRIBE':
        // BLF and MWI come with their own issue; until then say so clearly (RFC 6665 §4.2.2).
        reply(489, 'Bad Event');
        return;
      default:
        reply(405, 'Method Not Allowed', [['Allow', ALLOWED_METHODS.join(', ')]]);
    }
  }

  onInvite(session: InviteSession, request: SipRequest): void {
    if (!this.accepting) {
      session.reject({ status: 503, reason: 'Shutting Down', headers: [['Retry-After', '30']] });
      return;
    }
    // A call from an uplink peer (cloud SBC, trunk) is trusted by its source
    // address: it carries no phone's digest (issue 6).
    const fromUplink = this.options.routes?.inbound(request, session.destination) ?? null;
    if (fromUplink) {
      this.onUplinkInvite(session, fromUplink);
      return;
    }
    const source = session.destination.address;
    const fromUser = userOfHeader(request, 'From');
    if (this.options.throttle.isBlocked(source, fromUser)) {
      session.reject({ status: 403, reason: 'Forbidden' });
      return;
    }
    const directory = this.options.directory();
    const verdict = this.options.auth.verify(request, (u) => directory.extensions.get(u)?.password);
    if (verdict.result !== 'ok') {
      if (verdict.result === 'fail' && request.headers.has('Proxy-Authorization')) this.options.throttle.fail(source, fromUser);
      session.reject({ status: 407, reason: 'Proxy Authentication Required', headers: this.options.auth.challenge({ proxy: true, stale: verdict.result === 'stale' }) });
      return;
    }
    this.options.throttle.succeed(source, fromUser);
    const caller = directory.extensions.get(verdict.username)!;
    const dialled = userOf(request.uri) ?? userOfHeader(request, 'To') ?? '';
    const routes = this.options.routes;
    const prefix = this.options.outsideLinePrefix?.();
    const destination = resolveDestination(directory, dialled, {
      externalAllowed: routes?.hasUplinks() ?? false,
      ...(prefix !== undefined ? { outsideLinePrefix: prefix } : {}),
    });
    const callerParty: CallParty = { number: caller.number, name: caller.name };

    switch (destination.kind) {
      case 'extension':
        this.startCall({
          session,
          caller: callerParty,
          callee: { number: dialled, name: destination.extension.name },
          plan: [{ members: [destination.extension.number], seconds: directory.extensionRingSeconds }],
          targetsOf: (member) => this.phoneTargets(callerParty, member, directory.domain),
          route: { direction: 'internal' },
        });
        return;
      case 'hunt-group':
        this.startCall({
          session,
          caller: callerParty,
          callee: { number: dialled, name: destination.group.name },
          huntGroup: destination.group.number,
          plan: huntPlan(destination.group),
          targetsOf: (member) => this.phoneTargets(callerParty, member, directory.domain),
          route: { direction: 'internal' },
        });
        return;
      case 'emergency':
      case 'external': {
        const kind = destination.kind;
        const targets = routes?.outbound({ kind, dialled: destination.number, caller: callerParty }) ?? [];
        if (targets.length === 0) {
          const line = { caller: caller.number, dialled, kind };
          if (kind === 'emergency') this.log.error(line, 'EMERGENCY call cannot be placed: no uplink configured');
          else this.log.warn(line, 'no uplink can carry the call now');
          session.reject({ status: 503, reason: 'No Uplink Available' });
          return;
        }
        if (kind === 'emergency') this.log.warn({ caller: caller.number, dialled, uplinks: targets.map((t) => t.uplink) }, 'emergency call');
        // Each uplink is one ring step: the next is tried only when the one before has failed.
        const byUplink = new Map(targets.map((t) => [t.uplink, t]));
        this.startCall({
          session,
          caller: callerParty,
          callee: { number: destination.number, name: null },
          plan: targets.map((t) => ({ members: [t.uplink], seconds: t.ringSeconds })),
          targetsOf: (member) => {
            const t = byUplink.get(member);
            return t ? [uplinkCallTarget(t)] : [];
          },
          route: { direction: 'outbound', uplink: targets[0]!.uplink },
        });
        return;
      }
      case 'unknown':
        this.log.info({ caller: caller.number, dialled }, 'call to an unknown number');
        session.reject({ status: 404, reason: 'No Such Extension Or Group' });
        return;
      default: {
        const never: never = destination;
        throw new Error(`unhandled destination ${JSON.stringify(never)}`);
      }
    }
  }

  /** How a call reached the gateway and where it went, for call records and events. */
  routeOf(call: B2buaCall): CallRoute {
    const route = this.callRoutes.get(call.id) ?? { direction: 'internal' as const };
    // An outbound call is over the uplink that answered, when one did.
    if (route.direction === 'outbound' && call.answeredBy) return { ...route, uplink: call.answeredBy };
    return route;
  }

  /** A call from the cloud or a trunk to a DID or an extension: ring it like an internal call. */
  private onUplinkInvite(session: InviteSession, decision: InboundDecision): void {
    if (decision.kind === 'reject') {
      this.log.info({ uplink: decision.uplink, called: decision.called, status: decision.status }, 'inbound call refused: not a number of this practice');
      session.reject({ status: decision.status, reason: decision.reason });
      return;
    }
    const directory = this.options.directory();
    const caller: CallParty = { number: decision.caller.number, name: decision.caller.name };
    const extension = directory.extensions.get(decision.destination);
    const group = extension ? undefined : directory.huntGroups.get(decision.destination);
    if (!extension && !group) {
      this.log.warn({ uplink: decision.uplink, called: decision.called, destination: decision.destination }, 'inbound call for no extension or group');
      session.reject({ status: 404, reason: 'Not Found' });
      return;
    }
    this.log.info({ uplink: decision.uplink, caller: caller.number, called: decision.called, destination: decision.destination }, 'inbound call');
    this.startCall({
      session,
      caller,
      callee: { number: decision.destination, name: extension?.name ?? group?.name ?? null },
      ...(group ? { huntGroup: group.number } : {}),
      plan: extension ? [{ members: [extension.number], seconds: directory.extensionRingSeconds }] : huntPlan(group!),
      targetsOf: (member) => this.phoneTargets(caller, member, directory.domain),
      route: { direction: 'inbound', uplink: decision.uplink },
    });
  }

  private startCall(c: {
    session: InviteSession;
    caller: CallParty;
    callee: CallParty;
    huntGroup?: string;
    plan: RingStep[];
    targetsOf: (member: string) => CallTarget[];
    route: CallRoute;
  }): void {
    const call = new B2buaCall(
      {
        ua: this.options.ua,
        transport: this.options.transport,
        relay: this.options.relay,
        clock: this.options.clock,
        logger: this.options.logger,
        codecs: this.options.codecs(),
      },
      {
        id: randomUUID(),
        a: c.session,
        localToCaller: this.options.transport.localFor(c.session.destination).address,
        caller: c.caller,
        callee: c.callee,
        ...(c.huntGroup !== undefined ? { huntGroup: c.huntGroup } : {}),
        plan: c.plan,
        targetsOf: c.targetsOf,
        onEnd: (done, end) => {
          this.calls.delete(done.id);
          this.emit({ type: 'ended', call: done, end, route: this.routeOf(done) });
          this.callRoutes.delete(done.id);
        },
        onStateChange: (changed, _from, to: CallState) => {
          if (to === 'ringing' || to === 'answered') this.emit({ type: to, call: changed, route: this.routeOf(changed) });
        },
      },
    );
    this.calls.set(call.id, call);
    this.callRoutes.set(call.id, c.route);
    void call.start();
  }

  /** One INVITE per registered contact of an extension, sent where its REGISTER came from (NAT latching). */
  private phoneTargets(caller: CallParty, member: string, domain: string): CallTarget[] {
    const identity = `${caller.name ? `${quoteDisplay(caller.name)} ` : ''}<sip:${caller.number}@${domain}>`;
    return this.options.location.lookup(member).map((binding) => ({
      member,
      uri: binding.contact,
      destination: binding.source,
      from: identity,
      to: `<sip:${member}@${domain}>`,
      headers: [['P-Asserted-Identity', identity]],
      contactUser: caller.number,
    }));
  }

  private onDeadMedia(leg: RelayLeg, silentMs: number): void {
    for (const call of this.calls.values()) {
      if (call.mediaLeg('a') === leg || call.mediaLeg('b') === leg) {
        this.log.warn({ call: call.id, leg: leg.label, silentMs }, 'no media on an answered call: hanging up');
        call.hangup('dead-media');
        return;
      }
    }
  }

  private emit(e: CallEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.error({ err }, 'call event listener failed');
      }
    }
  }
}

/** The ring-step target for an uplink: its name is the member (call.answeredBy tells which uplink answered). */
function uplinkCallTarget(t: UplinkTarget): CallTarget {
  return {
    member: t.uplink,
    uri: t.uri,
    destination: t.destination,
    from: t.from,
    to: t.to,
    ...(t.headers ? { headers: t.headers } : {}),
    ...(t.credentials ? { credentials: t.credentials } : {}),
    ...(t.contactUser !== undefined ? { contactUser: t.contactUser } : {}),
    ...(t.noProgressMs !== undefined ? { noProgressMs: t.noProgressMs } : {}),
    ...(t.tlsServerName !== undefined ? { tlsServerName: t.tlsServerName } : {}),
  };
}

function userOfHeader(request: SipRequest, header: 'To' | 'From'): string | undefined {
  try {
    return parseNameAddr(request.headers.get(header) ?? '').uri.user;
  } catch {
    return undefined;
  }
}

function quoteDisplay(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
