/**
 * The PBX: what the gateway does with each request the SIP stack hands up.
 * REGISTER goes to the registrar; OPTIONS to the gateway itself is answered
 * 200 without authentication (phones and peers use it as a keep-alive,
 * CONTRACT.md); INVITE from an extension is authenticated, resolved through
 * the dial plan and becomes a B2BUA call. Nothing below this layer knows
 * what a hunt group is.
 */
import { randomUUID } from 'node:crypto';
import type { MediaLeg, MediaRelay } from '../media/relay/index.js';
import type { DigestServer } from '../sip/auth/index.js';
import { createResponse, generateTag, parseNameAddr, type SipRequest } from '../sip/message/index.js';
import type { ServerTransaction } from '../sip/transaction/api.js';
import type { InboundMessage, TransportLayer } from '../sip/transport/api.js';
import type { InviteSession } from '../sip/ua/invite-session.js';
import type { UserAgentCore, UserAgentDelegate } from '../sip/ua/user-agent-core.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { B2buaCall, type CallEnd, type CallState, type CallTarget } from './b2bua-call.js';
import type { Extension } from './directory.js';
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
  relay: MediaRelay;
  clock: Clock;
  logger: Logger;
  location: LocationService;
  registrar: Registrar;
  auth: Pick<DigestServer, 'challenge' | 'verify'>;
  throttle: FailureThrottle;
  directory: () => Directory;
  codecs: () => readonly string[];
}

export type CallEvent =
  | { type: 'ringing' | 'answered'; call: B2buaCall }
  | { type: 'ended'; call: B2buaCall; end: CallEnd };

export class Pbx implements UserAgentDelegate {
  private readonly log: Logger;
  private readonly calls = new Map<string, B2buaCall>();
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
    const source = session.destination.address;
    if (this.options.throttle.isBlocked(source)) {
      session.reject({ status: 403, reason: 'Forbidden' });
      return;
    }
    const directory = this.options.directory();
    const verdict = this.options.auth.verify(request, (u) => directory.extensions.get(u)?.password);
    if (verdict.result !== 'ok') {
      if (verdict.result === 'fail' && request.headers.has('Proxy-Authorization')) this.options.throttle.fail(source);
      session.reject({ status: 407, reason: 'Proxy Authentication Required', headers: this.options.auth.challenge({ proxy: true, stale: verdict.result === 'stale' }) });
      return;
    }
    this.options.throttle.succeed(source);
    const caller = directory.extensions.get(verdict.username)!;
    const dialled = userOf(request.uri) ?? toUser(request) ?? '';
    const destination = resolveDestination(directory, dialled, { externalAllowed: false });

    let plan: RingStep[];
    let calleeName: string | null;
    switch (destination.kind) {
      case 'extension':
        plan = [{ members: [destination.extension.number], seconds: directory.extensionRingSeconds }];
        calleeName = destination.extension.name;
        break;
      case 'hunt-group':
        plan = huntPlan(destination.group);
        calleeName = destination.group.name;
        break;
      case 'emergency':
      case 'external':
        // Calls that leave the building need an uplink (cloud or trunk), which this box has none of yet.
        this.log.error({ caller: caller.number, dialled, kind: destination.kind }, 'no uplink to carry the call');
        session.reject({ status: 503, reason: 'No Uplink Available' });
        return;
      case 'unknown':
        this.log.info({ caller: caller.number, dialled }, 'call to an unknown number');
        session.reject({ status: 404, reason: 'No Such Extension Or Group' });
        return;
      default: {
        const never: never = destination;
        throw new Error(`unhandled destination ${JSON.stringify(never)}`);
      }
    }

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
        a: session,
        localToCaller: this.options.transport.localFor(session.destination).address,
        caller: { number: caller.number, name: caller.name },
        callee: { number: dialled, name: calleeName },
        ...(destination.kind === 'hunt-group' ? { huntGroup: destination.group.number } : {}),
        plan,
        targetsOf: (member) => this.phoneTargets(caller, member, directory.domain),
        onEnd: (c, end) => {
          this.calls.delete(c.id);
          this.emit({ type: 'ended', call: c, end });
        },
        onStateChange: (c, _from, to: CallState) => {
          if (to === 'ringing' || to === 'answered') this.emit({ type: to, call: c });
        },
      },
    );
    this.calls.set(call.id, call);
    void call.start();
  }

  /** One INVITE per registered contact of an extension, sent where its REGISTER came from (NAT latching). */
  private phoneTargets(caller: Extension, member: string, domain: string): CallTarget[] {
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

  private onDeadMedia(leg: MediaLeg, silentMs: number): void {
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

function toUser(request: SipRequest): string | undefined {
  try {
    return parseNameAddr(request.headers.get('To') ?? '').uri.user;
  } catch {
    return undefined;
  }
}

function quoteDisplay(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
