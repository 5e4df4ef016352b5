/**
 * The persistent outbox that call records go through (issue 3): a record
 * is on disk before it is published, leaves only once the broker has
 * acknowledged it (PUBACK), and is replayed in order after a reconnect or a
 * restart. Nothing is dropped silently.
 *
 * One append-only file of JSON lines:
 *
 *   {"a":12,"id":"3f0c…","t":"2025-01-06T08:01:02.000Z","b":"{…the record…}"}   added, seq 12
 *   {"d":12}                                                                      done (acknowledged)
 *
 * - An add is written at the file's end and fdatasync'ed before append()
 *   resolves, so a record the gateway was told is safe survives kill -9 and
 *   a power cut. A write that fails half way (ENOSPC) is cut back off
 *   (ftruncate), so the file never holds a torn line in the middle.
 * - A done line is written without fsync: it survives kill -9 (it is in the
 *   page cache); after a power cut it may be missing and the record is sent
 *   again, which the record's unique id lets the cloud drop. That is the
 *   only way a record is published twice.
 * - On open, a torn last line (the process died inside write(2)) is cut
 *   off; the records added and not done are the outbox, in seq order.
 * - The file is emptied when nothing is pending, and rewritten (temp file,
 *   fsync, rename, fsync of the directory) when it has grown past
 *   `compactBytes` and is mostly done lines.
 *
 * Bounded by the disk: free space is checked (statfs) before appends; under
 * `minFreeBytes` an `outbox-disk-low` alarm is raised (and cleared when
 * space returns). When a write fails for lack of space the record is kept
 * in memory, still published, and an `outbox-disk-full` alarm says that it
 * is not yet safe from a restart; it is written out as soon as space allows.
 */
import { mkdir, open, readFile, rename, statfs } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import type { Clock } from '../util/clock.js';
import { PgwError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { GatewayEvent } from './payloads.js';
import { syncDirectory } from '../store/atomic-file.js';

export interface OutboxEntry {
  readonly seq: number;
  readonly id: string;
  /** The payload, published verbatim. */
  readonly body: string;
  /** When it entered the outbox (ISO 8601). */
  readonly at: string;
  /** False while it could not be written to disk (disk full): it would not survive a restart. */
  persisted: boolean;
}

export type OutboxAlarm = Extract<GatewayEvent, { type: 'alarm' }>;

export interface OutboxOptions {
  file: string;
  clock: Clock;
  logger: Logger;
  /** Below this much free space on the outbox's file system, raise `outbox-disk-low`. Default 64 MiB. */
  minFreeBytes?: number;
  /** Rewrite the file once it is this big and mostly done lines. Default 1 MiB. */
  compactBytes?: number;
  /** Records held in memory while the disk is full, at most; past it the oldest go, loudly. Default 10,000. */
  maxUnpersisted?: number;
  /** Free bytes on the file system holding `dir`; statfs by default. */
  freeSpace?: (dir: string) => Promise<number>;
  onAlarm?: (alarm: OutboxAlarm) => void;
}

export interface OutboxStats {
  pending: number;
  unpersisted: number;
  fileBytes: number;
  oldestAt: string | null;
  droppedForSpace: number;
  corruptLines: number;
  diskLow: boolean;
}

const DEFAULT_MIN_FREE = 64 * 1024 * 1024;
const DEFAULT_COMPACT_BYTES = 1024 * 1024;
const DEFAULT_MAX_UNPERSISTED = 10_000;
/** statfs at most this often while space is fine; every append while it is low. */
const SPACE_CHECK_MS = 5_000;

interface AddLine {
  a: number;
  id: string;
  t: string;
  b: string;
}

function isAddLine(v: unknown): v is AddLine {
  const o = v as Record<string, unknown>;
  return typeof o === 'object' && o !== null && typeof o.a === 'number' && typeof o.id === 'string' && typeof o.b === 'string' && typeof o.t === 'string';
}

function isDoneLine(v: unknown): v is { d: number } {
  return typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).d === 'number';
}

async function statfsFree(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

function isSpaceError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}

export class Outbox {
  private readonly list: OutboxEntry[] = [];
  private readonly log: Logger;
  private readonly minFree: number;
  private readonly compactBytes: number;
  private readonly maxUnpersisted: number;
  private readonly freeSpace: (dir: string) => Promise<number>;
  private fh: FileHandle | undefined;
  private fileBytes = 0;
  private seq = 0;
  private io: Promise<unknown> = Promise.resolve();
  private lastSpaceCheck = -Infinity;
  private diskLow = false;
  private diskFull = false;
  private droppedForSpace = 0;
  private corruptLines = 0;
  private closed = false;
  private readonly addedListeners = new Set<() => void>();

  private constructor(private readonly options: OutboxOptions) {
    this.log = options.logger;
    this.minFree = options.minFreeBytes ?? DEFAULT_MIN_FREE;
    this.compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
    this.maxUnpersisted = options.maxUnpersisted ?? DEFAULT_MAX_UNPERSISTED;
    this.freeSpace = options.freeSpace ?? statfsFree;
  }

  /** Opens (creating it and its directory when needed) and loads what is pending. */
  static async open(options: OutboxOptions): Promise<Outbox> {
    const box = new Outbox(options);
    try {
      await box.load();
    } catch (e) {
      throw new PgwError('PGW_E_SYNC_OUTBOX', `cannot open the outbox ${options.file}: ${(e as Error).message}`, {
        cause: e,
        context: { file: options.file },
      });
    }
    return box;
  }

  get file(): string {
    return this.options.file;
  }

  /** Pending records, oldest first. */
  get size(): number {
    return this.list.length;
  }

  /** Pending records in order; the array is live, do not modify it. */
  entries(): readonly OutboxEntry[] {
    return this.list;
  }

  /** Called after each append (the drainer listens). */
  onAdded(fn: () => void): () => void {
    this.addedListeners.add(fn);
    return () => this.addedListeners.delete(fn);
  }

  stats(): OutboxStats {
    return {
      pending: this.list.length,
      unpersisted: this.list.filter((e) => !e.persisted).length,
      fileBytes: this.fileBytes,
      oldestAt: this.list[0]?.at ?? null,
      droppedForSpace: this.droppedForSpace,
      corruptLines: this.corruptLines,
      diskLow: this.diskLow,
    };
  }

  /**
   * Adds a record. Resolves once it is on disk (fdatasync), or, when the
   * disk is full, once it is held in memory with the alarm raised.
   */
  append(id: string, body: string): Promise<OutboxEntry> {
    if (this.closed) return Promise.reject(new PgwError('PGW_E_SYNC_OUTBOX', 'the outbox is closed'));
    return this.serial(async () => {
      const entry: OutboxEntry = { seq: ++this.seq, id, body, at: new Date(this.options.clock.now()).toISOString(), persisted: false };
      await this.checkSpace();
      // Earlier records that could not be written go first; the file is read back in seq order anyway.
      for (const e of this.list) if (!e.persisted && !(await this.persist(e))) break;
      if (!this.diskFull || this.list.every((e) => e.persisted)) await this.persist(entry);
      this.list.push(entry);
      this.enforceMemoryBound();
      for (const fn of [...this.addedListeners]) fn();
      return entry;
    });
  }

  /** The broker acknowledged `seq`: it leaves the outbox. */
  ack(seq: number): Promise<void> {
    return this.serial(async () => {
      const i = this.list.findIndex((e) => e.seq === seq);
      if (i < 0) return;
      const [entry] = this.list.splice(i, 1);
      if (entry?.persisted) {
        try {
          await this.writeAt(`${JSON.stringify({ d: seq })}\n`, false);
        } catch (e) {
          // Worst case the record is sent again after a restart, and deduplicated by id.
          this.log.warn({ err: (e as Error).message, seq }, 'outbox: could not mark a record done');
        }
      }
      await this.maybeCompact();
    });
  }

  /** Waits for file work in flight and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.serial(async () => {
      await this.fh?.close();
      this.fh = undefined;
    });
  }

  // ------------------------------------------------------------------ internals

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.io.then(task);
    this.io = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<void> {
    const file = this.options.file;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.fh = await open(file, text === '' ? 'w+' : 'r+', 0o600);
    const lastNewline = text.lastIndexOf('\n');
    const complete = lastNewline < 0 ? '' : text.slice(0, lastNewline + 1);
    if (complete.length !== text.length) {
      // The process died inside a write: the line was never acknowledged to anyone.
      this.log.warn({ file, bytes: Buffer.byteLength(text) - Buffer.byteLength(complete) }, 'outbox: cutting off a torn last line');
      await this.fh.truncate(Buffer.byteLength(complete));
      await this.fh.datasync();
    }
    this.fileBytes = Buffer.byteLength(complete);
    const adds = new Map<number, AddLine>();
    const done = new Set<number>();
    for (const line of complete.split('\n')) {
      if (line === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        v = undefined;
      }
      if (isAddLine(v)) {
        adds.set(v.a, v);
        this.seq = Math.max(this.seq, v.a);
      } else if (isDoneLine(v)) done.add(v.d);
      else this.corruptLines++;
    }
    if (this.corruptLines > 0) this.log.error({ file, lines: this.corruptLines }, 'outbox: unreadable lines skipped');
    const pending = [...adds.values()].filter((a) => !done.has(a.a)).sort((x, y) => x.a - y.a);
    for (const a of pending) this.list.push({ seq: a.a, id: a.id, body: a.b, at: a.t, persisted: true });
    if (pending.length > 0) this.log.info({ file, pending: pending.length }, 'outbox: records to replay');
    await this.maybeCompact();
  }

  /** Writes one add line durably; false (and the alarm) when the disk is full. */
  private async persist(entry: OutboxEntry): Promise<boolean> {
    const line = `${JSON.stringify({ a: entry.seq, id: entry.id, t: entry.at, b: entry.body })}\n`;
    try {
      await this.writeAt(line, true);
      entry.persisted = true;
      if (this.diskFull && this.list.every((e) => e === entry || e.persisted)) this.setDiskFull(false);
      return true;
    } catch (e) {
      if (!isSpaceError(e)) {
        this.log.error({ err: (e as Error).message }, 'outbox: write failed');
      }
      this.setDiskFull(true, (e as Error).message);
      return false;
    }
  }

  /** Appends at the known end; a short or failed write is cut back off so no torn line stays. */
  private async writeAt(text: string, sync: boolean): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new PgwError('PGW_E_SYNC_OUTBOX', 'the outbox is closed');
    const buf = Buffer.from(text, 'utf8');
    const at = this.fileBytes;
    try {
      let off = 0;
      while (off < buf.length) {
        const { bytesWritten } = await fh.write(buf, off, buf.length - off, at + off);
        off += bytesWritten;
      }
      if (sync) await fh.datasync();
    } catch (e) {
      try {
        await fh.truncate(at);
      } catch {
        // Nothing more to do; the torn tail is cut off on the next open.
      }
      throw e;
    }
    this.fileBytes = at + buf.length;
  }

  private async maybeCompact(): Promise<void> {
    const fh = this.fh;
    if (!fh || this.fileBytes === 0) return;
    const persisted = this.list.filter((e) => e.persisted);
    if (persisted.length === 0) {
      // Nothing pending on disk: either the old content (all done) or empty survives a crash.
      await fh.truncate(0);
      await fh.datasync();
      this.fileBytes = 0;
      return;
    }
    if (this.fileBytes < this.compactBytes) return;
    const lines = persisted.map((e) => `${JSON.stringify({ a: e.seq, id: e.id, t: e.at, b: e.body })}\n`).join('');
    if (Buffer.byteLength(lines) * 2 > this.fileBytes) return;
    const file = this.options.file;
    const tmp = join(dirname(file), `.${basename(file)}.compact.tmp`);
    try {
      const t = await open(tmp, 'w', 0o600);
      try {
        await t.writeFile(lines, 'utf8');
        await t.sync();
      } finally {
        await t.close();
      }
      await rename(tmp, file);
      await syncDirectory(dirname(file));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'outbox: compaction failed; keeping the long file');
      return;
    }
    await fh.close();
    this.fh = await open(file, 'r+', 0o600);
    this.fileBytes = Buffer.byteLength(lines);
    this.log.debug({ bytes: this.fileBytes, pending: persisted.length }, 'outbox compacted');
  }

  private async checkSpace(): Promise<void> {
    const now = this.options.clock.monotonic();
    if (!this.diskLow && !this.diskFull && now - this.lastSpaceCheck < SPACE_CHECK_MS) return;
    this.lastSpaceCheck = now;
    let free: number;
    try {
      free = await this.freeSpace(dirname(this.options.file));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'outbox: cannot read free disk space');
      return;
    }
    // Hysteresis, so a disk hovering at the limit does not flap the alarm.
    if (!this.diskLow && free < this.minFree) {
      this.diskLow = true;
      this.alarm('outbox-disk-low', 'raised', 'warning', `free space for the call-record outbox is low: ${free} bytes`, { freeBytes: free });
    } else if (this.diskLow && free > this.minFree * 1.25) {
      this.diskLow = false;
      this.alarm('outbox-disk-low', 'cleared', 'warning', `free space for the call-record outbox is back: ${free} bytes`, { freeBytes: free });
    }
  }

  private setDiskFull(full: boolean, why?: string): void {
    if (full === this.diskFull) return;
    this.diskFull = full;
    if (full)
      this.alarm('outbox-disk-full', 'raised', 'critical', `call records cannot be written to disk (${why}); held in memory until space returns`);
    else this.alarm('outbox-disk-full', 'cleared', 'critical', 'call records held in memory are on disk again');
  }

  private enforceMemoryBound(): void {
    let unpersisted = this.list.filter((e) => !e.persisted).length;
    if (unpersisted <= this.maxUnpersisted) return;
    let dropped = 0;
    for (let i = 0; i < this.list.length && unpersisted > this.maxUnpersisted; ) {
      if (!this.list[i]!.persisted) {
        this.list.splice(i, 1);
        unpersisted--;
        dropped++;
      } else i++;
    }
    this.droppedForSpace += dropped;
    this.log.error({ dropped, total: this.droppedForSpace }, 'outbox: disk full and memory bound reached; oldest unsaved records dropped');
    this.alarm('outbox-records-dropped', 'raised', 'critical', `${dropped} call records dropped: disk full and ${this.maxUnpersisted} already held in memory`, {
      dropped,
      totalDropped: this.droppedForSpace,
    });
  }

  private alarm(alarm: string, state: 'raised' | 'cleared', severity: 'warning' | 'critical', message: string, details?: Record<string, unknown>): void {
    (state === 'raised' ? this.log.warn.bind(this.log) : this.log.info.bind(this.log))({ alarm, state, ...details }, message);
    try {
      this.options.onAlarm?.({ type: 'alarm', alarm, state, severity, message, details, at: new Date(this.options.clock.now()).toISOString() });
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'outbox alarm listener failed');
    }
  }
}
