/**
 * The practice config as a reconciler (issue 3): the cloud says what it
 * wants on `config/desired`, the box makes it so and says what it did on
 * `config/reported`.
 *
 *   desired ──► version not newer than applied? ──yes──► same document: no-op, report applied
 *                     │ no                              different: ignored, event, report applied (+ ignored)
 *                     ▼
 *               validate (config schema) ──invalid──► report rejected with JSON paths
 *                     │ valid
 *                     ▼
 *               diff against what runs ──► apply (ordered steps, applier) ──fail──► roll back to previous
 *                     │ ok                                                          report rejected
 *                     ▼
 *               persist as last known good ──fail──► roll back, report rejected
 *                     │ ok
 *                     ▼
 *               report applied, event with the change counts
 *
 * Documents are handled one at a time in arrival order; documents that
 * arrive while one is being applied are coalesced, only the newest is
 * handled next (a retained topic only ever holds the newest anyway). The
 * last known good is saved only after the applier succeeded, so a box
 * killed in the middle of an apply restarts on the previous config and
 * applies the new one again when the retained desired is delivered.
 *
 * Nothing this publishes or logs contains a secret: reports carry versions
 * and scrubbed problems, events carry counts.
 */
import type { Practice } from '../config/practice-schema.js';
import type { ConfigProblem } from '../config/problems.js';
import { validateDesired, validatePractice } from '../config/validate.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { sameJson } from './canonical-json.js';
import type { GatewayEvent, ReportedConfig } from './payloads.js';
import { diffPractice, summariseDiff } from './practice-diff.js';
import type { AppliedPractice, ApplyOptions, ApplyResult, LastKnownGoodStore, PracticeApplier } from './ports.js';
import { collectSecrets, scrubProblems, scrubText } from './secret-scrub.js';

/** An apply that has not finished in this time is treated as failed and rolled back. */
export const DEFAULT_APPLY_TIMEOUT_MS = 120_000;

export interface ConfigReconcilerOptions {
  applier: PracticeApplier;
  store: LastKnownGoodStore;
  clock: Clock;
  logger: Logger;
  /** Each report, to publish retained on `config/reported` (now, or on the next connect). */
  onReport(report: ReportedConfig): void;
  /** `config` events and alarms, for `events`. */
  onEvent(event: GatewayEvent): void;
  applyTimeoutMs?: number;
}

type Item = { kind: 'doc'; doc: unknown } | { kind: 'bad-json'; message: string };

export class ConfigReconciler {
  private readonly applier: PracticeApplier;
  private readonly store: LastKnownGoodStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly opts: ConfigReconcilerOptions;
  private readonly applyTimeoutMs: number;
  private chain: Promise<unknown> = Promise.resolve();
  private pending: Item | undefined;
  private scheduled = false;
  private last: ReportedConfig | undefined;
  private lastItem: Item | undefined;
  private handledCount = 0;

  constructor(options: ConfigReconcilerOptions) {
    this.opts = options;
    this.applier = options.applier;
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.logger;
    this.applyTimeoutMs = options.applyTimeoutMs ?? DEFAULT_APPLY_TIMEOUT_MS;
  }

  /**
   * A `config/desired` payload as received. An empty payload is how a
   * retained message is deleted (MQTT 5 §3.3.1.3): there is nothing to do.
   */
  submit(payload: Uint8Array | string): void {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
    if (text.trim() === '') {
      this.log.info('config/desired is empty (retained message cleared); keeping the running config');
      return;
    }
    let item: Item;
    try {
      item = { kind: 'doc', doc: JSON.parse(text) as unknown };
    } catch (e) {
      item = { kind: 'bad-json', message: `not JSON: ${(e as Error).message.replace(/, ".*" is not valid JSON$/s, '')}` };
    }
    this.enqueueItem(item);
  }

  /** A desired document already parsed (`{ version, practice }`). */
  submitDocument(doc: unknown): void {
    this.enqueueItem({ kind: 'doc', doc });
  }

  /**
   * The report that tells the truth now, for republishing on (re)connect:
   * the last one made, or, before any, the applied version.
   */
  lastReport(): ReportedConfig | undefined {
    if (this.last) return this.last;
    const current = this.applier.current();
    return current ? this.appliedReport(current.version) : undefined;
  }

  /** Documents handled so far (reports made), for diagnostics and tests. */
  get handled(): number {
    return this.handledCount;
  }

  /** Resolves once every document submitted so far has been handled. */
  async whenIdle(): Promise<void> {
    for (;;) {
      const c = this.chain;
      await c;
      if (c === this.chain && !this.scheduled) return;
    }
  }

  /**
   * Runs the last known good config when nothing runs yet: a box that starts
   * with the broker unreachable runs on it (issue 3). Does nothing when the
   * applier already has a practice (the composition root applied one).
   */
  restore(): Promise<AppliedPractice | undefined> {
    return this.enqueue(() => this.doRestore());
  }

  /**
   * `cmd/reload-config`: handles the last desired document received again
   * (it is the retained one, the box stays subscribed). Undefined when none
   * has been received since start.
   */
  async reloadLast(): Promise<ReportedConfig | undefined> {
    const item = this.lastItem;
    if (!item) return undefined;
    return this.enqueue(() => this.handle(item));
  }

  private enqueueItem(item: Item): void {
    this.lastItem = item;
    this.pending = item;
    if (this.scheduled) return;
    this.scheduled = true;
    void this.enqueue(async () => {
      this.scheduled = false;
      const next = this.pending;
      this.pending = undefined;
      if (next) await this.handle(next);
    });
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task);
    this.chain = run.catch((e: unknown) => {
      this.log.error({ err: (e as Error).message }, 'config reconciler task failed');
    });
    return run;
  }

  private emit(event: GatewayEvent): void {
    try {
      this.opts.onEvent({ ...event, at: event.at ?? this.at() });
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'event listener failed');
    }
  }

  private report(r: ReportedConfig): ReportedConfig {
    this.last = r;
    this.handledCount++;
    try {
      this.opts.onReport(r);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'report listener failed');
    }
    return r;
  }

  private at(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private appliedReport(version: number, extra: Partial<ReportedConfig> = {}): ReportedConfig {
    return { version, status: 'applied', errors: [], at: this.at(), appliedVersion: version, ...extra };
  }

  private rejected(version: number | null, errors: ConfigProblem[], secrets: readonly string[]): ReportedConfig {
    const safe = scrubProblems(errors, secrets);
    const appliedVersion = this.applier.current()?.version ?? null;
    this.log.warn({ version, appliedVersion, errors: safe }, 'config rejected');
    this.emit({
      type: 'config',
      action: 'rejected',
      version,
      appliedVersion,
      reason: safe.length > 0 ? `${safe[0]!.path}: ${safe[0]!.message}${safe.length > 1 ? ` (+${safe.length - 1} more)` : ''}` : 'rejected',
    });
    return this.report({ version, status: 'rejected', errors: safe, at: this.at(), appliedVersion });
  }

  private async handle(item: Item): Promise<ReportedConfig> {
    if (item.kind === 'bad-json') return this.rejected(null, [{ path: '(root)', message: item.message }], []);
    const doc = item.doc;
    const current = this.applier.current();
    const secrets = collectSecrets(doc, current?.practice);
    const rawVersion = readVersion(doc);

    // CONTRACT.md: a version not newer than the applied one is ignored and
    // config/reported keeps telling the applied version.
    if (current && rawVersion !== null && rawVersion <= current.version) {
      const v = validateDesired(doc);
      if (rawVersion === current.version && v.ok && sameJson(v.value.practice, current.practice)) {
        this.log.debug({ version: rawVersion }, 'config/desired is the applied document; nothing to do');
        return this.report(this.appliedReport(current.version));
      }
      const reason =
        rawVersion === current.version
          ? `version ${rawVersion} is already applied with different content; a change needs a newer version`
          : `version ${rawVersion} is older than the applied version ${current.version}`;
      this.log.info({ version: rawVersion, appliedVersion: current.version }, `config/desired ignored: ${reason}`);
      this.emit({ type: 'config', action: 'ignored', version: rawVersion, appliedVersion: current.version, reason });
      return this.report(this.appliedReport(current.version, { ignored: { version: rawVersion, reason } }));
    }

    const v = validateDesired(doc);
    if (!v.ok) return this.rejected(rawVersion, v.errors, secrets);
    const { version, practice } = v.value;
    return this.applyNew(version, practice, current, secrets);
  }

  private async applyNew(
    version: number,
    practice: Practice,
    current: AppliedPractice | undefined,
    secrets: readonly string[],
  ): Promise<ReportedConfig> {
    const diff = diffPractice(current?.practice, practice);
    const changes = summariseDiff(diff);
    this.log.info({ version, appliedVersion: current?.version ?? null, changes }, 'applying config');
    let result = await this.runApply(practice, { version, diff, previous: current, reason: 'desired' });
    if (result.ok) {
      try {
        await this.store.save({ version, practice });
      } catch (e) {
        result = {
          ok: false,
          errors: [{ path: '(store)', message: `could not save as the last known good config: ${(e as Error).message}` }],
        };
      }
    }
    if (result.ok) {
      this.log.info({ version, changes }, 'config applied');
      this.emit({ type: 'config', action: 'applied', version, appliedVersion: version, changes });
      return this.report(this.appliedReport(version));
    }

    const errors = result.errors.length > 0 ? result.errors : [{ path: result.step ? `practice.${result.step}` : '(apply)', message: 'apply failed' }];
    if (current) await this.rollBack(current, { version, practice }, secrets);
    return this.rejected(version, errors, secrets);
  }

  /** Puts `previous` back after `failed` went wrong half way (issue 3). */
  private async rollBack(previous: AppliedPractice, failed: AppliedPractice, secrets: readonly string[]): Promise<void> {
    const diff = diffPractice(failed.practice, previous.practice);
    const r = await this.runApply(previous.practice, { version: previous.version, diff, previous: failed, reason: 'rollback' });
    if (r.ok) {
      this.log.warn({ version: failed.version, appliedVersion: previous.version }, 'config rolled back');
      this.emit({
        type: 'config',
        action: 'rolled-back',
        version: failed.version,
        appliedVersion: previous.version,
        reason: `apply of version ${failed.version} failed; version ${previous.version} put back`,
      });
      return;
    }
    const why = scrubProblems(r.errors, secrets)
      .map((p) => `${p.path}: ${p.message}`)
      .join('; ');
    this.log.error({ version: failed.version, appliedVersion: previous.version, errors: why }, 'config rollback failed');
    this.emit({
      type: 'config',
      action: 'rollback-failed',
      version: failed.version,
      appliedVersion: this.applier.current()?.version ?? null,
      reason: why || 'rollback failed',
    });
    this.emit({
      type: 'alarm',
      alarm: 'config-rollback-failed',
      state: 'raised',
      severity: 'critical',
      message: `version ${failed.version} failed half way and version ${previous.version} could not be put back`,
    });
  }

  private async doRestore(): Promise<AppliedPractice | undefined> {
    const current = this.applier.current();
    if (current) return current;
    let lkg: AppliedPractice | undefined;
    try {
      lkg = await this.store.load();
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'cannot read the last known good config');
      this.alarm('config-restore-failed', `cannot read the last known good config: ${(e as Error).message}`);
      return undefined;
    }
    if (!lkg) {
      this.log.info('no last known good config; waiting for the cloud');
      return undefined;
    }
    // Validated again: a newer firmware may fill new defaults or find a problem.
    const secrets = collectSecrets(lkg.practice);
    const v = validatePractice({ ...lkg.practice, version: lkg.version });
    if (!v.ok) {
      const first = scrubProblems(v.errors, secrets)[0];
      this.log.error({ version: lkg.version, errors: scrubProblems(v.errors, secrets) }, 'last known good config is not valid');
      this.alarm('config-restore-failed', `last known good version ${lkg.version} is not valid: ${first?.path}: ${first?.message}`);
      return undefined;
    }
    const r = await this.runApply(v.value, {
      version: lkg.version,
      diff: diffPractice(undefined, v.value),
      previous: undefined,
      reason: 'restore',
    });
    if (!r.ok) {
      const why = scrubProblems(r.errors, secrets).map((p) => `${p.path}: ${p.message}`).join('; ');
      this.log.error({ version: lkg.version, errors: why }, 'last known good config could not be applied');
      this.alarm('config-restore-failed', `last known good version ${lkg.version} could not be applied: ${why}`);
      return undefined;
    }
    this.log.info({ version: lkg.version }, 'running the last known good config');
    return { version: lkg.version, practice: v.value };
  }

  private alarm(name: string, message: string): void {
    this.emit({ type: 'alarm', alarm: name, state: 'raised', severity: 'critical', message });
  }

  /** The applier's answer, or a failure when it throws or does not finish in time. */
  private async runApply(practice: Practice, options: ApplyOptions): Promise<ApplyResult> {
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<ApplyResult>((resolve) => {
      timer = this.clock.setTimer(this.applyTimeoutMs, () =>
        resolve({ ok: false, errors: [{ path: '(apply)', message: `did not finish within ${this.applyTimeoutMs} ms` }] }),
      );
    });
    const attempt = (async (): Promise<ApplyResult> => {
      try {
        return await this.applier.apply(practice, options);
      } catch (e) {
        const secrets = collectSecrets(practice, options.previous?.practice);
        return { ok: false, errors: [{ path: '(apply)', message: scrubText((e as Error).message ?? String(e), secrets) }] };
      }
    })();
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      timer?.cancel();
    }
  }
}

/** `version` of a desired document when it is a positive integer, else null. */
function readVersion(doc: unknown): number | null {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return null;
  const v = (doc as Record<string, unknown>).version;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}
