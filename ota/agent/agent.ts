/**
 * The on-box update agent. One loop runs the state machine of states.ts:
 * each state has an action (act*) that does the state's work and returns
 * the event that ends it; the event goes through the checked transition(),
 * the new record is persisted (atomically, fsynced) before anything else
 * happens, then ota/reported is updated and the next action starts.
 *
 * Because the record is written before each action and every action can
 * run again from the start, a kill -9 or power cut at any point resumes:
 *
 *   checking, verifying       run again
 *   downloading               resumes from the last fsynced checkpoint (Range)
 *   waiting-window/-idle      wait again
 *   installing                writes the slot again (or skips it if the record says it is written)
 *   rebooting                 same boot id: the reboot never happened → disarm, back to waiting-idle;
 *                             new boot id: on the new slot → trial; on the old → rolled-back
 *   trial                     counts the start (loop guard), then soaks again
 *   rolling-back              finishes the rollback
 *
 * New targets (ota/desired with a new id) abort the action in progress in
 * the states that accept `target`; in rebooting, trial and rolling-back they
 * are queued (persisted) and delivered when the machine reaches a final state.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../../firmware/src/util/clock.js';
import { isPgwError } from '../../firmware/src/util/errors.js';
import type { Logger } from '../../firmware/src/util/logger.js';
import { otherSlot } from '../../hw/slots/types.js';
import type { SlotBackend, SlotName, SlotStatus } from '../../hw/slots/types.js';
import { bundleSize, decodeHeader } from '../bundle/format.js';
import type { TrustedKey } from '../bundle/keys.js';
import { readBundleHead } from '../bundle/read.js';
import { verifyHead } from '../bundle/sign.js';
import { parseOtaDesired } from '../protocol/desired.js';
import type { OtaDesired } from '../protocol/desired.js';
import { REPORTED_SCHEMA } from '../protocol/reported.js';
import type { OtaReported, WaitingFor } from '../protocol/reported.js';
import { DEFAULT_DOWNLOAD_TUNING, DownloadFailure, downloadBundle } from './download.js';
import type { DownloadTuning } from './download.js';
import { statfsFreeBytes } from './free-space.js';
import { fetchBundleHead } from './head-fetch.js';
import type { CallGuard, FreeSpaceFn, HealthCheck, HealthCheckItem, OtaBoardPort, OtaLink } from './ports.js';
import { checkPreconditions, firstFailure } from './preconditions.js';
import type { RefusalCode } from './preconditions.js';
import type { OtaReason, OtaRecord } from './record.js';
import { Reporter } from './reporter.js';
import { StateFile } from './state-file.js';
import { acceptsTarget, isFinal, transition } from './states.js';
import type { OtaEvent, OtaState } from './states.js';
import { AbortedError, backoffDelay, isAborted, sleep, throwIfAborted, withTimeout } from './timing.js';
import { TrustedTime } from './trusted-time.js';
import { DEFAULT_TIMEZONE, inWindow, nextWindowChange } from './window.js';

export interface OtaTuning {
  /** Healthy without a break for this long on trial before committing. */
  soakMs: number;
  /** Give up on the trial (roll back) if the soak has not passed this long after the start. */
  trialTimeoutMs: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  /** Process starts on trial (boots or crashes) before rolling back: the loop guard. */
  maxTrialBoots: number;
  /** Process starts in one state without progress before giving up (crash loop). */
  maxResumes: number;
  download: DownloadTuning;
  /** Attempts to fetch the bundle head before failing. */
  headAttempts: number;
  progressIntervalMs: number;
  callPollMs: number;
  /** Re-check the window at least this often (clock jumps, NTP sync). */
  windowPollMaxMs: number;
  /** How long new calls are held off around the reboot. */
  rebootHoldMs: number;
  /** If the box has not gone down this long after asking for a reboot, give up. */
  rebootTimeoutMs: number;
  /** Free space to leave on the data partition after the download. */
  reserveBytes: number;
  /** Read the slot back and hash it after writing (raw slots). */
  readBack: boolean;
  /** Bound on publishing the report before a reboot. */
  reportBeforeRebootMs: number;
}

export const DEFAULT_TUNING: OtaTuning = {
  soakMs: 5 * 60_000,
  trialTimeoutMs: 20 * 60_000,
  healthIntervalMs: 10_000,
  healthTimeoutMs: 5_000,
  maxTrialBoots: 3,
  maxResumes: 5,
  download: DEFAULT_DOWNLOAD_TUNING,
  headAttempts: 6,
  progressIntervalMs: 2_000,
  callPollMs: 2_000,
  windowPollMaxMs: 15 * 60_000,
  rebootHoldMs: 120_000,
  rebootTimeoutMs: 10 * 60_000,
  reserveBytes: 64 * 1024 * 1024,
  readBack: true,
  reportBeforeRebootMs: 3_000,
};

export interface OtaAgentOptions {
  /** The gateway's data directory; the agent keeps `ota/` under it. */
  dataDir: string;
  deviceId: string;
  /** device.board: matched against the manifest's `compatible`. */
  boardName: string;
  /** The firmware version running now (the booted slot's). */
  runningVersion: string;
  slots: SlotBackend;
  board: OtaBoardPort;
  calls: CallGuard;
  health: HealthCheck;
  link: OtaLink;
  trustedKeys: readonly TrustedKey[];
  clock: Clock;
  logger: Logger;
  /** practice.site.timezone; windows without their own timezone use it. */
  siteTimezone?: string;
  freeSpace?: FreeSpaceFn;
  random?: () => number;
  /** The system clock is not trusted before this time (ms); the firmware's build time. */
  clockFloorMs?: number;
  /** Extra CA certificates (PEM) for an https update server. */
  ca?: string | Buffer;
  tuning?: Partial<Omit<OtaTuning, 'download'>> & { download?: Partial<DownloadTuning> };
  /** Test hook: runs after each transition is persisted, before the next action. */
  onTransition?: (rec: OtaRecord, info: { from: OtaState; event: OtaEvent }) => void | Promise<void>;
  /** Test hook: runs as the image is written to the slot; the write waits for it. */
  onInstallProgress?: (bytes: number, total: number) => void | Promise<void>;
}

type Outcome = {
  event: OtaEvent;
  reason?: OtaReason;
  patch?: Partial<OtaRecord>;
  /** With `target`. */
  desired?: OtaDesired;
};

interface Volatile {
  progress: OtaReported['progress'];
  waiting: OtaReported['waiting'];
  health: { healthy: boolean | null; checks: HealthCheckItem[]; soakRemainingMs: number | null } | null;
  rejectedTarget: OtaReported['rejectedTarget'];
}

const HANDLED_IDS_KEPT = 32;
const CRASH_GUARDED: readonly OtaState[] = ['checking', 'downloading', 'verifying', 'installing'];

export class OtaAgent {
  private readonly o: OtaAgentOptions;
  private readonly tuning: OtaTuning;
  private readonly log: Logger;
  private readonly dir: string;
  private readonly store: StateFile;
  private readonly reporter: Reporter;
  private readonly time: TrustedTime;
  private readonly random: () => number;
  private rec!: OtaRecord;
  private running: SlotName | null = null;
  private volatile: Volatile = { progress: null, waiting: null, health: null, rejectedTarget: null };
  private serial: Promise<unknown> = Promise.resolve();
  private action: AbortController | undefined;
  private actingOn: OtaState | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private firstAct = true;
  private hold: (() => void) | undefined;
  private wake: (() => void) | undefined;
  private unsubscribe: Array<() => void> = [];

  constructor(options: OtaAgentOptions) {
    this.o = options;
    this.tuning = {
      ...DEFAULT_TUNING,
      ...options.tuning,
      download: { ...DEFAULT_DOWNLOAD_TUNING, ...options.tuning?.download },
    };
    this.log = options.logger.child({ component: 'ota' });
    this.dir = join(options.dataDir, 'ota');
    this.store = new StateFile(join(this.dir, 'state.json'));
    this.reporter = new Reporter(options.link, options.clock, this.log, this.tuning.progressIntervalMs);
    this.time = new TrustedTime(options.clock, options.clockFloorMs);
    this.random = options.random ?? Math.random;
  }

  /** The current record (a copy). */
  get record(): OtaRecord {
    return structuredClone(this.rec);
  }

  get state(): OtaState {
    return this.rec.state;
  }

  /** The report as it stands (also what was last set for publishing). */
  report(): OtaReported {
    return this.buildReport();
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const loaded = await this.store.load(this.iso());
    this.rec = loaded.record;
    if (loaded.kind === 'corrupt') this.log.error({ movedTo: loaded.movedTo, err: loaded.error }, 'the OTA state file was corrupt; moved aside');
    try {
      const st = await this.o.slots.status();
      this.running = st.booted;
      // Lost record while running a slot the boot loader was only trying: go back to the known-good one.
      if (loaded.kind !== 'loaded' && st.booted !== st.primary) {
        this.rec = {
          ...this.rec,
          state: 'rolling-back',
          reason: { code: 'state-lost', message: 'the OTA state was lost while running a slot on trial' },
          reboot: { fromSlot: st.primary, toSlot: st.booted, bootId: '', fromVersion: 'unknown' },
        };
      }
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'cannot read the boot slots');
    }
    // The trial loop guard counts every start on trial here, before anything that could crash.
    if (this.rec.state === 'trial') this.rec.trial = { boots: (this.rec.trial?.boots ?? 0) + 1 };
    if (!isFinal(this.rec.state)) {
      this.rec.resumes += 1;
      // Crash-loop guard for the states that do work; waiting may span any number of restarts,
      // and trial has its own boot counter.
      if (this.rec.resumes > this.tuning.maxResumes && CRASH_GUARDED.includes(this.rec.state)) {
        this.log.error({ state: this.rec.state, resumes: this.rec.resumes }, 'the agent keeps restarting in the same state');
        this.firstAct = false;
        await this.applyNow({ event: 'fail', reason: { code: 'crash-loop', message: `restarted ${this.rec.resumes} times in ${this.rec.state}` } });
      }
    }
    await this.store.save(this.rec);
    this.log.info({ state: this.rec.state, seq: this.rec.seq, running: this.o.runningVersion, slot: this.running }, 'OTA agent starting');
    this.unsubscribe.push(this.o.link.onConnected(() => this.reporter.republish()));
    this.publish(true);
    this.unsubscribe.push(await this.o.link.subscribeDesired((payload) => this.onDesired(payload)));
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.action?.abort();
    this.wake?.();
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    await this.loop?.catch(() => undefined);
    await this.serial.catch(() => undefined);
    this.releaseHold();
    this.reporter.stop();
  }

  /** Resolves when the reporter has sent the latest report (or after timeoutMs). */
  flushReport(timeoutMs = 2_000): Promise<void> {
    return this.reporter.flush(timeoutMs);
  }

  // ---------------------------------------------------------------- targets

  private onDesired(payload: Buffer): void {
    if (payload.length === 0) return; // retained target cleared
    const parsed = parseOtaDesired(payload);
    if (!parsed.ok) {
      let id: string | null = null;
      try {
        const j = JSON.parse(payload.toString('utf8')) as { id?: unknown };
        id = typeof j.id === 'string' ? j.id : null;
      } catch {
        id = null;
      }
      this.log.warn({ errors: parsed.errors }, 'ota/desired rejected');
      this.volatile.rejectedTarget = { id, errors: parsed.errors };
      this.publish(true);
      return;
    }
    const d = parsed.desired;
    void this.enqueue(async () => {
      if (this.stopped) return;
      if (this.rec.desired?.id === d.id || this.rec.pending?.id === d.id || this.rec.handledIds.includes(d.id)) return;
      this.volatile.rejectedTarget = null;
      if (acceptsTarget(this.rec.state)) {
        this.log.info({ id: d.id, version: d.version, from: this.rec.state }, 'new update target');
        this.action?.abort();
        await this.applyNow({ event: 'target', desired: d });
        this.wake?.();
      } else {
        this.log.info({ id: d.id, version: d.version, state: this.rec.state }, 'update target queued until this one finishes');
        this.rec = { ...this.rec, pending: d };
        await this.store.save(this.rec);
        this.publish(true);
      }
    });
  }

  // ---------------------------------------------------------------- the loop

  private async run(): Promise<void> {
    while (!this.stopped) {
      // Let any move being applied (a new target) land before choosing the next action.
      await this.serial.catch(() => undefined);
      if (this.stopped) break;
      const ac = new AbortController();
      this.action = ac;
      const state = this.rec.state;
      this.actingOn = state;
      const resumed = this.firstAct;
      this.firstAct = false;
      let outcome: Outcome | undefined;
      try {
        outcome = await this.act(state, ac.signal, resumed);
      } catch (e) {
        if (!(isAborted(e) || ac.signal.aborted)) {
          outcome = this.unexpected(state, e);
          if (!outcome) {
            // No way out of this state by failing (trial, rolling-back): try again after a pause.
            this.log.error({ state, err: (e as Error).message }, 'OTA action failed; retrying');
            await sleep(this.o.clock, 30_000, ac.signal).catch(() => undefined);
            continue;
          }
        }
      }
      if (this.stopped) break;
      if (!outcome) continue;
      const o = outcome;
      // Behind any target being applied; an outcome made stale by it is dropped.
      await this.enqueue(async () => {
        if (ac.signal.aborted || this.stopped || this.rec.state !== state) return;
        await this.applyNow(o);
      });
    }
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.serial.then(fn, fn);
    this.serial = next.catch(() => undefined);
    return next;
  }

  private unexpected(state: OtaState, e: unknown): Outcome | undefined {
    const reason: OtaReason = { code: 'internal', message: (e as Error).message };
    this.log.error({ state, err: reason.message, code: isPgwError(e) ? e.code : undefined }, 'OTA action failed');
    switch (state) {
      case 'trial':
        return { event: 'unhealthy', reason };
      case 'rolling-back':
        return undefined;
      default:
        return nextIsLegal(state, 'fail') ? { event: 'fail', reason } : undefined;
    }
  }

  /** Applies an event: checked transition, record update, persist, report. */
  private async applyNow(o: Outcome): Promise<void> {
    const from = this.rec.state;
    const to = transition(from, o.event);
    let rec: OtaRecord = { ...this.rec, ...o.patch, state: to, seq: this.rec.seq + 1, resumes: 0, updatedAt: this.iso() };
    if (o.event === 'target' && o.desired) {
      await this.removeDownloads();
      rec = {
        ...rec,
        desired: o.desired,
        pending: null,
        reason: null,
        head: null,
        manifest: null,
        preconditions: null,
        download: null,
        installed: null,
        reboot: null,
        trial: null,
        handledIds: [...rec.handledIds.filter((x) => x !== o.desired!.id), o.desired.id].slice(-HANDLED_IDS_KEPT),
      };
    } else {
      // A rollback keeps the reason it started with; every other move states its own (or none).
      rec.reason = o.reason ?? (from === 'rolling-back' ? this.rec.reason : null);
    }
    // Durable first: nothing (not even `state`) shows the move before it is on disk.
    await this.store.save(rec);
    this.rec = rec;
    this.volatile.progress = null;
    this.volatile.waiting = null;
    if (to !== 'trial') this.volatile.health = null;
    this.log.info({ from, event: o.event, to, seq: rec.seq, reason: rec.reason?.code }, `ota ${from} -> ${to}`);
    this.publish(true);
    // An action still running for the old state (a target landed meanwhile) must stop.
    if (this.actingOn !== undefined && this.actingOn !== to) this.action?.abort();
    if (isFinal(to)) {
      await this.removeDownloads();
      this.releaseHold();
    }
    await this.o.onTransition?.(structuredClone(rec), { from, event: o.event });
  }

  private act(state: OtaState, signal: AbortSignal, resumed: boolean): Promise<Outcome> {
    switch (state) {
      case 'idle':
      case 'committed':
      case 'rolled-back':
      case 'refused':
      case 'failed':
        return this.actFinal(signal);
      case 'checking':
        return this.actChecking(signal);
      case 'downloading':
        return this.actDownloading(signal);
      case 'verifying':
        return this.actVerifying(signal);
      case 'waiting-window':
        return this.actWaitingWindow(signal);
      case 'waiting-idle':
        return this.actWaitingIdle(signal);
      case 'installing':
        return this.actInstalling(signal);
      case 'rebooting':
        return this.actRebooting(signal, resumed);
      case 'trial':
        return this.actTrial(signal);
      case 'rolling-back':
        return this.actRollingBack(signal);
      default: {
        const never: never = state;
        throw new Error(`unknown state ${String(never)}`);
      }
    }
  }

  // ---------------------------------------------------------------- actions

  private async actFinal(signal: AbortSignal): Promise<Outcome> {
    if (this.rec.pending) return { event: 'target', desired: this.rec.pending };
    // Nothing to do until a target arrives (onDesired aborts this wait).
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.wake = undefined;
    throw new AbortedError();
  }

  private async actChecking(signal: AbortSignal): Promise<Outcome> {
    const d = this.need(this.rec.desired, 'desired');
    let head;
    for (let attempt = 0; ; attempt++) {
      try {
        head = await fetchBundleHead(d.url, { signal, ca: this.o.ca, onResponse: (res) => this.time.observeHttpDate(res.headers.date) });
        break;
      } catch (e) {
        if (isAborted(e) || signal.aborted) throw new AbortedError();
        if (isPgwError(e, 'PGW_E_OTA_BUNDLE')) return this.refuse('bad-bundle', e.message);
        if (attempt + 1 >= this.tuning.headAttempts)
          return { event: 'fail', reason: { code: 'download-failed', message: `cannot fetch the bundle head: ${(e as Error).message}` } };
        const delay = backoffDelay(attempt, this.tuning.download.minBackoffMs, this.tuning.download.maxBackoffMs, this.random);
        this.log.warn({ err: (e as Error).message, attempt: attempt + 1, delayMs: delay }, 'bundle head fetch failed; retrying');
        await sleep(this.o.clock, delay, signal);
      }
    }
    try {
      verifyHead({ header: head.headerBytes, manifest: head.manifestBytes, trusted: this.o.trustedKeys, detached: d.signature });
    } catch (e) {
      return this.refuse('bad-signature', (e as Error).message);
    }
    const st = await this.o.slots.status();
    const inactive = otherSlot(st.booted);
    const file = join(this.dir, `download-${d.sha256.slice(0, 16)}.bundle`);
    const freeBytes = await (this.o.freeSpace ?? statfsFreeBytes)(this.dir);
    const results = checkPreconditions({
      desired: d,
      header: head.header,
      manifest: head.manifest,
      board: this.o.boardName,
      runningVersion: this.o.runningVersion,
      formats: this.o.slots.formats,
      slotCapacity: await this.o.slots.capacity(inactive),
      freeBytes,
      haveBytes: 0,
      reserveBytes: this.tuning.reserveBytes,
    });
    const patch: Partial<OtaRecord> = {
      preconditions: results,
      manifest: head.manifest,
      head: { header: head.headerBytes.toString('base64'), manifest: head.manifestBytes.toString('base64') },
    };
    const bad = firstFailure(results);
    if (bad) {
      const failing = results.filter((r) => !r.ok);
      return { event: 'refuse', reason: { code: bad.code!, message: failing.map((r) => r.detail).join('; ') }, patch };
    }
    return { event: 'head-ok', patch: { ...patch, download: { file, durableBytes: 0, sha256: null, redownloads: 0 } } };
  }

  private async actDownloading(signal: AbortSignal): Promise<Outcome> {
    const d = this.need(this.rec.desired, 'desired');
    const dl = this.need(this.rec.download, 'download');
    try {
      const { sha256 } = await downloadBundle({
        url: d.url,
        file: dl.file,
        size: d.size,
        startFrom: dl.durableBytes,
        clock: this.o.clock,
        random: this.random,
        signal,
        tuning: this.tuning.download,
        ca: this.o.ca,
        onResponse: (res) => this.time.observeHttpDate(res.headers.date),
        onProgress: (bytes) => this.progress('download', bytes, d.size),
        onCheckpoint: (durableBytes) =>
          this.enqueue(async () => {
            if (signal.aborted || this.rec.state !== 'downloading') return;
            // Progress is not a crash loop: reset the resume count with each checkpoint.
            this.rec = { ...this.rec, resumes: 0, download: { ...this.need(this.rec.download, 'download'), durableBytes } };
            await this.store.save(this.rec);
          }),
        onRetry: (info) => this.log.warn(info, 'download interrupted; retrying'),
      });
      return { event: 'downloaded', patch: { download: { ...dl, durableBytes: d.size, sha256 } } };
    } catch (e) {
      if (isAborted(e) || signal.aborted) throw new AbortedError();
      if (e instanceof DownloadFailure) {
        if (e.code === 'download-failed') return { event: 'fail', reason: { code: e.code, message: e.message } };
        return this.refuse(e.code, e.message);
      }
      throw e;
    }
  }

  private async actVerifying(signal: AbortSignal): Promise<Outcome> {
    const d = this.need(this.rec.desired, 'desired');
    const dl = this.need(this.rec.download, 'download');
    const head = this.need(this.rec.head, 'head');
    throwIfAborted(signal);
    if (dl.sha256 !== d.sha256) {
      if (dl.redownloads < 1) {
        // Possibly damaged in transit or on disk: one fresh download before blaming the bundle.
        this.log.warn({ got: dl.sha256, want: d.sha256 }, 'bundle SHA-256 mismatch; downloading again once');
        await rm(dl.file, { force: true });
        return { event: 'redownload', patch: { download: { ...dl, durableBytes: 0, sha256: null, redownloads: dl.redownloads + 1 } } };
      }
      return this.refuse('hash-mismatch', `the bundle's SHA-256 is ${dl.sha256}; the target says ${d.sha256}`);
    }
    // The file's head must be the very bytes whose signature was checked.
    const fileHead = await readBundleHead(dl.file);
    if (!fileHead.headerBytes.equals(Buffer.from(head.header, 'base64')) || !fileHead.manifestBytes.equals(Buffer.from(head.manifest, 'base64')))
      return this.refuse('bad-bundle', 'the downloaded head differs from the one that was verified');
    return { event: 'verified' };
  }

  /** Where the policy stands now: open, or what it waits for (and until when). */
  private windowState(): { open: true } | { open: false; waiting: NonNullable<OtaReported['waiting']>; recheckMs: number } {
    const d = this.need(this.rec.desired, 'desired');
    if (d.policy === 'now') return { open: true };
    const t = this.time.now();
    if (!t) return { open: false, waiting: { for: 'clock' }, recheckMs: 60_000 };
    if (d.policy === 'defer-until') {
      const nb = Date.parse(d.notBefore!);
      if (t.ms >= nb) return { open: true };
      return { open: false, waiting: { for: 'not-before', until: new Date(nb).toISOString() }, recheckMs: nb - t.ms };
    }
    const tz = this.o.siteTimezone ?? DEFAULT_TIMEZONE;
    if (inWindow(t.ms, d.window, tz)) return { open: true };
    const next = nextWindowChange(t.ms, d.window, tz);
    return {
      open: false,
      waiting: next === null ? { for: 'window' } : { for: 'window', until: new Date(next).toISOString() },
      recheckMs: next === null ? this.tuning.windowPollMaxMs : next - t.ms,
    };
  }

  private async actWaitingWindow(signal: AbortSignal): Promise<Outcome> {
    for (;;) {
      const w = this.windowState();
      if (w.open) return { event: 'window-open' };
      this.setWaiting(w.waiting);
      await sleep(this.o.clock, Math.max(1_000, Math.min(w.recheckMs, this.tuning.windowPollMaxMs)), signal);
    }
  }

  private async actWaitingIdle(signal: AbortSignal): Promise<Outcome> {
    for (;;) {
      if (!this.windowState().open) return { event: 'window-closed' };
      const n = this.o.calls.activeCalls();
      if (n === 0) return { event: 'no-calls' };
      this.setWaiting({ for: 'calls', activeCalls: n });
      await sleep(this.o.clock, this.tuning.callPollMs, signal);
    }
  }

  private async actInstalling(signal: AbortSignal): Promise<Outcome> {
    const d = this.need(this.rec.desired, 'desired');
    const dl = this.need(this.rec.download, 'download');
    const m = this.need(this.rec.manifest, 'manifest');
    const st = await this.o.slots.status();
    const target = otherSlot(st.booted);
    let installed = this.rec.installed;
    if (!installed || installed.slot !== target || installed.sha256 !== m.image.sha256) {
      installed = null;
      const header = decodeHeader(Buffer.from(this.need(this.rec.head, 'head').header, 'base64'));
      const writer = await this.o.slots.openWriter(target, { format: m.image.format, size: m.image.size });
      const hash = createHash('sha256');
      let written = 0;
      const meter = new Transform({
        highWaterMark: 1 << 20,
        transform: (chunk: Buffer, _enc, cb) => {
          hash.update(chunk);
          written += chunk.length;
          this.progress('install', written, m.image.size);
          const hook = this.o.onInstallProgress;
          if (!hook) return cb(null, chunk);
          Promise.resolve(hook(written, m.image.size)).then(
            () => cb(null, chunk),
            (e: Error) => cb(e),
          );
        },
      });
      const source = createReadStream(dl.file, { start: header.imageOffset, end: bundleSize(header) - 1, highWaterMark: 1 << 20 });
      await pipeline(source, meter, writer, { signal });
      const sha = hash.digest('hex');
      if (sha !== m.image.sha256)
        return this.refuse('image-hash-mismatch', `the image's SHA-256 is ${sha}; the signed manifest says ${m.image.sha256}`);
      if (this.tuning.readBack) {
        const reader = await this.o.slots.openReader(target, m.image.size);
        if (reader) {
          const back = await hashStream(reader, signal);
          if (back !== m.image.sha256)
            return { event: 'fail', reason: { code: 'readback-mismatch', message: `slot ${target} reads back as ${back} after writing` } };
        }
      }
      // Before `installed` is recorded: a crash in here redoes the whole install.
      if (this.o.slots.completeInstall) {
        try {
          await this.o.slots.completeInstall(target);
        } catch (e) {
          return { event: 'fail', reason: { code: 'slot-incomplete', message: (e as Error).message } };
        }
        throwIfAborted(signal);
      }
      installed = { slot: target, sha256: sha };
      this.log.info({ slot: target, version: d.version, bytes: written }, 'image written to the inactive slot');
    }
    const bootId = await this.o.board.bootId();
    const patch: Partial<OtaRecord> = {
      installed,
      reboot: { fromSlot: st.booted, toSlot: target, bootId, fromVersion: this.o.runningVersion },
    };
    // The write took time: the window may have closed or a call started meanwhile.
    if (!this.windowState().open) return { event: 'window-closed', patch };
    this.releaseHold();
    this.hold = this.o.calls.holdNewCalls(this.tuning.rebootHoldMs);
    if (this.o.calls.activeCalls() > 0) {
      this.releaseHold();
      return { event: 'call-active', patch };
    }
    return { event: 'installed', patch };
  }

  private async actRebooting(signal: AbortSignal, resumed: boolean): Promise<Outcome> {
    const r = this.need(this.rec.reboot, 'reboot');
    if (resumed) {
      const bootId = await this.o.board.bootId();
      if (bootId === r.bootId) {
        // The process restarted but the box did not: the reboot never happened.
        await this.o.slots.disarm();
        return { event: 'reboot-interrupted', patch: { reboot: { ...r, armed: false } } };
      }
      const st = await this.o.slots.status();
      if (st.booted === r.toSlot) return { event: 'booted-new', patch: { trial: { boots: 1 } } };
      await this.o.slots.disarm();
      // Power lost before the trial was armed: nothing was tried, so nothing failed.
      if (!r.armed) return { event: 'reboot-interrupted', patch: { reboot: { ...r, bootId } } };
      return {
        event: 'booted-old',
        reason: {
          code: 'boot-fallback',
          message: `slot ${r.toSlot} did not come up (or the box lost power before its trial boot); the boot loader went back to slot ${st.booted}`,
        },
      };
    }
    try {
      const trial = await this.o.slots.arm(r.toSlot);
      await this.enqueue(async () => {
        this.rec = { ...this.rec, reboot: { ...r, armed: true } };
        await this.store.save(this.rec);
      });
      this.setWaiting({ for: 'reboot' });
      await this.reporter.flush(this.tuning.reportBeforeRebootMs);
      throwIfAborted(signal);
      this.log.info({ slot: r.toSlot, arg: trial.rebootArg }, 'rebooting into the new slot on trial');
      await this.o.board.reboot({ arg: trial.rebootArg, reason: `OTA update to ${this.rec.desired?.version ?? '?'}` });
    } catch (e) {
      if (isAborted(e)) throw e;
      await this.o.slots.disarm().catch(() => undefined);
      this.releaseHold();
      return { event: 'fail', reason: { code: 'reboot-failed', message: (e as Error).message } };
    }
    // The system is going down; if it does not, undo and say so.
    await sleep(this.o.clock, this.tuning.rebootTimeoutMs, signal);
    await this.o.slots.disarm();
    this.releaseHold();
    return { event: 'fail', reason: { code: 'reboot-failed', message: `the box did not reboot within ${this.tuning.rebootTimeoutMs} ms` } };
  }

  private async actTrial(signal: AbortSignal): Promise<Outcome> {
    const r = this.need(this.rec.reboot, 'reboot');
    const d = this.need(this.rec.desired, 'desired');
    // Starts on trial, counted by start() (and 1 for the boot that entered it).
    const boots = this.rec.trial?.boots ?? 1;
    const st = await this.o.slots.status();
    if (st.booted !== r.toSlot)
      return {
        event: 'booted-old',
        reason: { code: 'trial-reboot', message: `the box restarted during the trial and the boot loader went back to slot ${st.booted}` },
      };
    if (boots > this.tuning.maxTrialBoots)
      return { event: 'unhealthy', reason: { code: 'too-many-boots', message: `started ${boots} times on trial (limit ${this.tuning.maxTrialBoots})` } };
    if (this.o.runningVersion !== d.version)
      return {
        event: 'unhealthy',
        reason: { code: 'version-mismatch', message: `slot ${r.toSlot} runs ${this.o.runningVersion}, not ${d.version}` },
      };
    const started = this.o.clock.monotonic();
    let healthySince: number | null = null;
    let last: HealthCheckItem[] = [];
    for (;;) {
      throwIfAborted(signal);
      const probe = new AbortController();
      const onAbort = (): void => probe.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let healthy = false;
      try {
        const res = await withTimeout(this.o.clock, this.o.health.check(probe.signal), this.tuning.healthTimeoutMs, () => new Error('health check timed out'));
        healthy = res.healthy;
        last = res.checks;
      } catch (e) {
        throwIfAborted(signal);
        last = [{ name: 'health-check', ok: false, detail: (e as Error).message }];
      } finally {
        probe.abort();
        signal.removeEventListener('abort', onAbort);
      }
      const now = this.o.clock.monotonic();
      healthySince = healthy ? (healthySince ?? now) : null;
      const remaining = healthySince === null ? null : Math.max(0, this.tuning.soakMs - (now - healthySince));
      this.volatile.health = { healthy, checks: last, soakRemainingMs: remaining };
      if (remaining === 0) {
        await this.o.slots.commit(r.toSlot);
        this.log.info({ slot: r.toSlot, version: d.version }, 'update committed');
        return { event: 'healthy' };
      }
      if (now - started >= this.tuning.trialTimeoutMs) {
        const failing = last.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? 'failed'}`);
        return {
          event: 'unhealthy',
          reason: { code: 'health-check-failed', message: `not healthy for ${this.tuning.soakMs} ms within ${this.tuning.trialTimeoutMs} ms (${failing.join('; ') || 'soak interrupted'})` },
        };
      }
      this.publish(false);
      await sleep(this.o.clock, this.tuning.healthIntervalMs, signal);
    }
  }

  private async actRollingBack(signal: AbortSignal): Promise<Outcome> {
    const r = this.need(this.rec.reboot, 'reboot');
    const st: SlotStatus = await this.o.slots.status();
    // Make the known-good slot the default again (it may have been committed before a crash).
    if (st.primary !== r.fromSlot || st.armed !== null) await this.o.slots.commit(r.fromSlot);
    if (st.booted === r.fromSlot) return { event: 'booted-old' };
    // Still on the bad slot: reboot into the good one, never cutting a call.
    for (;;) {
      const n = this.o.calls.activeCalls();
      if (n === 0) {
        this.releaseHold();
        this.hold = this.o.calls.holdNewCalls(this.tuning.rebootHoldMs);
        if (this.o.calls.activeCalls() === 0) break;
        this.releaseHold();
      }
      this.setWaiting({ for: 'calls', activeCalls: n });
      await sleep(this.o.clock, this.tuning.callPollMs, signal);
    }
    this.setWaiting({ for: 'reboot' });
    await this.reporter.flush(this.tuning.reportBeforeRebootMs);
    this.log.warn({ to: r.fromSlot, reason: this.rec.reason?.code }, 'rolling back: rebooting into the previous slot');
    await this.o.board.reboot({ reason: `OTA rollback: ${this.rec.reason?.message ?? ''}` });
    await sleep(this.o.clock, this.tuning.rebootTimeoutMs, signal);
    this.releaseHold();
    throw new Error('the box did not reboot for the rollback');
  }

  // ---------------------------------------------------------------- helpers

  private refuse(code: RefusalCode, message: string): Outcome {
    return { event: 'refuse', reason: { code, message } };
  }

  private need<T>(v: T | null | undefined, what: string): T {
    if (v === null || v === undefined) throw new Error(`the OTA record has no ${what} in state ${this.rec.state}`);
    return v;
  }

  private releaseHold(): void {
    const h = this.hold;
    this.hold = undefined;
    h?.();
  }

  private async removeDownloads(): Promise<void> {
    let names: string[] = [];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    await Promise.all(names.filter((n) => n.startsWith('download-')).map((n) => rm(join(this.dir, n), { force: true })));
  }

  private progress(phase: 'download' | 'install', bytes: number, total: number): void {
    this.volatile.progress = { phase, bytes, total, percent: total > 0 ? Math.floor((bytes / total) * 1000) / 10 : 100 };
    this.publish(bytes >= total);
  }

  private setWaiting(w: NonNullable<OtaReported['waiting']>): void {
    const changed = JSON.stringify(w) !== JSON.stringify(this.volatile.waiting);
    this.volatile.waiting = w;
    if (changed) this.publish(true);
  }

  private publish(force: boolean): void {
    this.reporter.set(this.buildReport(), force);
  }

  private iso(): string {
    return new Date(this.o.clock.now()).toISOString();
  }

  private buildReport(): OtaReported {
    const r = this.rec;
    const d = r.desired;
    const t = this.time.now();
    return {
      schema: REPORTED_SCHEMA,
      deviceId: this.o.deviceId,
      state: r.state,
      id: d?.id ?? null,
      target: d ? { version: d.version, policy: d.policy, url: d.url } : null,
      running: { version: this.o.runningVersion, slot: this.running },
      progress: this.volatile.progress,
      reason: r.reason,
      preconditions: r.preconditions,
      waiting: this.volatile.waiting as { for: WaitingFor } | null,
      trial:
        r.state === 'trial'
          ? {
              boots: r.trial?.boots ?? 0,
              healthy: this.volatile.health?.healthy ?? null,
              checks: this.volatile.health?.checks ?? [],
              soakRemainingMs: this.volatile.health?.soakRemainingMs ?? null,
            }
          : null,
      queued: r.pending ? { id: r.pending.id, version: r.pending.version } : null,
      rejectedTarget: this.volatile.rejectedTarget,
      clock: { trusted: this.time.clockTrusted(), source: t?.source ?? null },
      seq: r.seq,
      at: this.iso(),
    };
  }
}

function nextIsLegal(state: OtaState, event: OtaEvent): boolean {
  try {
    transition(state, event);
    return true;
  } catch {
    return false;
  }
}

async function hashStream(stream: Readable, signal: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    throwIfAborted(signal);
    h.update(chunk);
  }
  return h.digest('hex');
}
