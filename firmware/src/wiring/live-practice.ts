/**
 * The practice the gateway runs, changeable while it runs (issue 3: config
 * pushed by the cloud is applied without dropping calls the change does not
 * touch). The PBX and registrar read the directory through this object, so a
 * new extension can register the moment its config is applied; an extension
 * that is removed loses its registrations; calls in progress carry on.
 *
 * Listening points and the RTP port range are bound sockets: changing them
 * needs a restart, so such a change is refused with a clear error rather
 * than half applied.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Practice } from '../config/index.js';
import type { ConfigProblem } from '../config/problems.js';
import { createDirectory, type Directory } from '../pbx/directory.js';
import type { LocationService } from '../pbx/location-service.js';
import { createDigestServer, type DigestServer } from '../sip/auth/index.js';
import type { ApplyOptions, ApplyResult, AppliedPractice, PracticeApplier } from '../sync/ports.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

export function directoryOf(practice: Practice | null, fallbackDomain: string): Directory {
  return createDirectory({
    domain: practice?.sip.domain ?? fallbackDomain,
    extensions: (practice?.extensions ?? []).map((e) => ({ number: e.number, name: e.name, password: e.password })),
    huntGroups: (practice?.huntGroups ?? []).map((g) => ({
      number: g.number,
      name: g.name,
      strategy: g.strategy,
      members: g.members,
      ringSeconds: g.ringSeconds,
    })),
    emergencyNumbers: practice?.emergency.numbers,
    extensionRingSeconds: practice?.calls.ringSeconds,
  });
}

export interface LivePracticeOptions {
  initial: Practice | null;
  /** Realm and domain when the practice names none (the device id). */
  fallbackDomain: string;
  location: LocationService;
  clock: Clock;
  logger: Logger;
}

export class LivePractice implements PracticeApplier {
  private practiceValue: Practice | null;
  private directoryValue: Directory;
  private digest: DigestServer;
  private readonly log: Logger;

  constructor(private readonly options: LivePracticeOptions) {
    this.practiceValue = options.initial;
    this.directoryValue = directoryOf(options.initial, options.fallbackDomain);
    this.digest = this.makeDigest(options.initial);
    this.log = options.logger.child({ component: 'practice' });
  }

  get practice(): Practice | null {
    return this.practiceValue;
  }

  get directory(): Directory {
    return this.directoryValue;
  }

  /** Digest auth for the current realm and algorithms; a stable object whose server changes with the practice. */
  readonly auth: Pick<DigestServer, 'challenge' | 'verify'> = {
    challenge: (o) => this.digest.challenge(o),
    verify: (request, lookup) => this.digest.verify(request, lookup),
  };

  current(): AppliedPractice | undefined {
    const p = this.practiceValue;
    return p ? { version: p.version, practice: p } : undefined;
  }

  async apply(next: Practice, options: ApplyOptions): Promise<ApplyResult> {
    const prev = this.practiceValue;
    const errors = restartOnlyChanges(prev, next);
    if (errors.length > 0) return { ok: false, step: 'extensions', errors };

    const removed = (prev?.extensions ?? []).map((e) => e.number).filter((n) => !next.extensions.some((e) => e.number === n));
    const realmChanged =
      prev?.sip.domain !== next.sip.domain || !isDeepStrictEqual(prev?.sip.digestAlgorithms, next.sip.digestAlgorithms);
    this.practiceValue = next;
    this.directoryValue = directoryOf(next, this.options.fallbackDomain);
    if (realmChanged) this.digest = this.makeDigest(next);
    for (const n of removed) this.options.location.removeAll(n);
    this.log.info(
      { version: next.version, previous: prev?.version ?? null, reason: options.reason, extensions: next.extensions.length, removed },
      'practice config applied',
    );
    return { ok: true };
  }

  private makeDigest(p: Practice | null): DigestServer {
    return createDigestServer({
      realm: p?.sip.domain ?? this.options.fallbackDomain,
      clock: this.options.clock,
      algorithms: p?.sip.digestAlgorithms ?? ['MD5'],
    });
  }
}

/** Changes that need sockets rebound: refused while running, with the path and what to do. */
function restartOnlyChanges(prev: Practice | null, next: Practice): ConfigProblem[] {
  if (!prev) return [];
  const out: ConfigProblem[] = [];
  if (!isDeepStrictEqual(prev.sip.listen, next.sip.listen)) {
    out.push({ path: 'practice.sip.listen', message: 'changing where SIP listens needs a gateway restart; push it with a restart, or leave it as it is' });
  }
  if (!isDeepStrictEqual(prev.sip.rtp, next.sip.rtp)) {
    out.push({ path: 'practice.sip.rtp', message: 'changing the RTP port range needs a gateway restart; push it with a restart, or leave it as it is' });
  }
  return out;
}
