/**
 * The registrar (RFC 3261 §10.3): REGISTER with per-extension digest auth,
 * several contacts per extension, expiry and refresh, unregister, and the
 * NAT latching kept by the location service.
 *
 * Wrong passwords and unknown users get the same 401 (no enumeration); a
 * source that keeps failing is throttled and then ignored for a while.
 */
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/api.js';
import type { InboundMessage } from '../sip/transport/api.js';
import { createResponse, generateTag, parseNameAddr, formatUri, parseUri, splitHeaderValues, parseCSeq } from '../sip/message/index.js';
import type { DigestServer } from '../sip/auth/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Directory } from './directory.js';
import type { FailureThrottle } from './failure-throttle.js';
import type { LocationService } from './location-service.js';

export interface RegistrarOptions {
  clock: Clock;
  logger: Logger;
  location: LocationService;
  /** The current directory: a function, because config can change under a running registrar. */
  directory: () => Directory;
  auth: Pick<DigestServer, 'challenge' | 'verify'>;
  throttle: FailureThrottle;
  /** Shortest registration accepted, seconds; shorter gets 423 (RFC 3261 §10.3 step 7). */
  minExpires?: number;
  /** Longest registration granted, seconds; longer is cut down to this. */
  maxExpires?: number;
  /** Expiry when the phone names none, seconds. */
  defaultExpires?: number;
  /** Contacts kept per extension; a new one beyond this replaces the oldest. */
  maxContactsPerExtension?: number;
}

export class Registrar {
  private readonly minExpires: number;
  private readonly maxExpires: number;
  private readonly defaultExpires: number;
  private readonly maxContacts: number;
  private readonly log: Logger;

  constructor(private readonly options: RegistrarOptions) {
    this.minExpires = options.minExpires ?? 60;
    this.maxExpires = options.maxExpires ?? 3600;
    this.defaultExpires = options.defaultExpires ?? 3600;
    this.maxContacts = options.maxContactsPerExtension ?? 10;
    this.log = options.logger.child({ component: 'registrar' });
  }

  handle(request: SipRequest, tx: ServerTransaction, inbound: InboundMessage): void {
    const source = inbound.source.address;
    const reply = (status: number, reason?: string, headers: Array<[string, string]> = []): void =>
      tx.respond(createResponse(request, status, reason, { toTag: generateTag(), headers }));

    const directory = this.options.directory();
    let aor: string;
    try {
      const to = parseNameAddr(request.headers.get('To') ?? '');
      aor = to.uri.user ?? '';
    } catch {
      reply(400, 'Bad To header');
      return;
    }

    // Dropped without an answer while this phone's extension (or the whole address) is blocked: see failure-throttle.ts.
    if (this.options.throttle.isBlocked(source, aor)) return;
    const verdict = this.options.auth.verify(request, (username) => directory.extensions.get(username)?.password);
    if (verdict.result === 'stale') {
      reply(401, 'Unauthorized', this.options.auth.challenge({ stale: true }));
      return;
    }
    if (verdict.result === 'fail') {
      // The first REGISTER of every phone carries no credentials: not a failure worth counting.
      const attempted = request.headers.has('Authorization');
      if (attempted) {
        const blocked = this.options.throttle.fail(source, aor);
        this.log.warn({ source, aor, reason: verdict.reason, blocked }, 'registration refused');
      }
      reply(401, 'Unauthorized', this.options.auth.challenge({}));
      return;
    }
    this.options.throttle.succeed(source, aor);
    // A phone may only register its own extension (a stolen 201 password must not hijack 202).
    if (verdict.username !== aor || !directory.extensions.has(aor)) {
      this.log.warn({ source, aor, username: verdict.username }, 'registration for another extension refused');
      reply(403, 'Forbidden');
      return;
    }

    const callId = request.headers.get('Call-ID') ?? '';
    const cseq = parseCSeq(request.headers.get('CSeq') ?? '').seq;
    const headerExpires = parseExpires(request.headers.get('Expires'));
    const contactValues = request.headers.getAll('Contact').flatMap((v) => splitHeaderValues(v));

    if (contactValues.length > 0) {
      let contacts;
      try {
        contacts = contactValues.map((v) => parseNameAddr(v));
      } catch {
        reply(400, 'Bad Contact header');
        return;
      }
      // RFC 3261 §10.3 step 6: `*` only alone and only with Expires: 0.
      if (contacts.some((c) => c.wildcard)) {
        if (contacts.length !== 1 || headerExpires !== 0) {
          reply(400, 'Wildcard Contact needs Expires: 0 and no other Contact');
          return;
        }
        const n = this.options.location.removeAll(aor);
        this.log.info({ aor, removed: n, source }, 'unregistered all contacts');
      } else {
        for (const c of contacts) {
          const expiresParam = c.params.get('expires');
          const requested = parseExpires(expiresParam ?? undefined) ?? headerExpires ?? this.defaultExpires;
          if (requested !== 0 && requested < this.minExpires) {
            reply(423, 'Interval Too Brief', [['Min-Expires', String(this.minExpires)]]);
            return;
          }
        }
        for (const c of contacts) {
          const contactUri = formatUri(c.uri);
          const expiresParam = c.params.get('expires');
          const requested = parseExpires(expiresParam ?? undefined) ?? headerExpires ?? this.defaultExpires;
          if (requested === 0) {
            if (this.options.location.remove(aor, contactUri)) this.log.info({ aor, contact: contactUri }, 'unregistered');
            continue;
          }
          const granted = Math.min(requested, this.maxExpires);
          const q = parseQ(c.params.get('q') ?? undefined);
          const instanceId = c.params.get('+sip.instance') ?? undefined;
          const result = this.options.location.upsert({
            aor,
            contact: contactUri,
            source: inbound.source,
            local: inbound.local,
            connectionId: inbound.connectionId,
            expiresAt: this.options.clock.now() + granted * 1000,
            callId,
            cseq,
            userAgent: request.headers.get('User-Agent'),
            instanceId: instanceId ?? undefined,
            q,
          });
          if (result === 'added') {
            this.log.info({ aor, contact: contactUri, source: `${inbound.source.address}:${inbound.source.port}`, expires: granted }, 'registered');
            this.enforceLimit(aor);
          }
        }
      }
    }

    // 200 lists every current binding with its remaining time (§10.3 step 8).
    const now = this.options.clock.now();
    const headers: Array<[string, string]> = this.options.location
      .lookup(aor)
      .map((b) => ['Contact', `<${b.contact}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`]);
    headers.push(['Date', new Date(now).toUTCString()]);
    reply(200, 'OK', headers);
  }

  private enforceLimit(aor: string): void {
    const bindings = this.options.location.lookup(aor);
    if (bindings.length <= this.maxContacts) return;
    const oldest = [...bindings].sort((a, b) => a.registeredAt - b.registeredAt).slice(0, bindings.length - this.maxContacts);
    for (const b of oldest) this.options.location.remove(aor, b.contact);
  }
}

function parseExpires(value: string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = Number.parseInt(value.trim(), 10);
  // RFC 3261 §20.19: a malformed Expires is treated as the default.
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 2 ** 31 - 1) : undefined;
}

function parseQ(value: string | undefined): number {
  if (value === undefined) return 1;
  const q = Number.parseFloat(value);
  return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 1;
}

/** The extension a Request-URI or To URI names, or undefined. */
export function userOf(uri: string): string | undefined {
  try {
    return parseUri(uri).user;
  } catch {
    return undefined;
  }
}
