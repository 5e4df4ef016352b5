/**
 * The download's receive → hash → write → fdatasync pipeline, with
 * durable checkpoints that are never ahead of what is fdatasynced.
 *
 *   space() ─socket reads into─┐
 *   push(chunk) ──copy─────────┴─> slot (shared memory, `slotBytes`)
 *                          │ full (or flush())
 *                          ├──> hash thread: update(slot)     ┐ both done:
 *                          └──> libuv pool: pwrite(slot, pos) ┘ slot reused
 *   writes complete ──> `written` = the longest prefix whose writes all completed
 *   written − durable ≥ checkpointBytes ──> fdatasync in the background
 *        └─ done ──> durable = `written` as it was when the sync *started*
 *                    ──> onCheckpoint(durable) (the caller persists it)
 *
 * Why this shape (issue 4's benchmark, docs/BENCHMARKS.md `ota-download`):
 * receiving, hashing and writing each cost about as much CPU per byte, so
 * they run on three threads (main, hash worker, libuv pool) and overlap;
 * several writes are in flight at once; the fsync runs while the next slots
 * are written, not in the way of the receive. The socket reads straight
 * into the current slot (space()/commit(), direct-get.ts), so nothing is
 * allocated per read; push() copies what cannot arrive that way (chunked
 * bodies, bytes that came with the response head).
 *
 * Guarantees:
 * - Hash order is file order: slots are posted to the hash thread in the
 *   order their bytes were received, and it handles messages in order.
 * - The durable length passed to onCheckpoint only covers writes that had
 *   completed before the fdatasync began (POSIX: fdatasync makes durable the
 *   data written before the call), so after a power cut the file holds at
 *   least that many good bytes; the caller cuts anything past it.
 * - Backpressure: push() and commit() return false when every slot is busy;
 *   the caller stops reading the socket until drained(), so memory stays at
 *   `slots × slotBytes` (plus at most one read held as a copy) whatever the
 *   disk's speed.
 * - Failures (a write, the fsync, the hash, the caller's checkpoint) are
 *   sticky: later calls fail with the first error. idle() still waits for
 *   every write already started, so the file is never closed under one.
 */

/** The file as the pipeline sees it (a FileHandle in production, a fake in tests). */
export interface PipelineFile {
  /** Writes `data` at `position`; resolves with the bytes written (a short write is retried with the rest). */
  write(data: Buffer, position: number): Promise<number>;
  /** fdatasync(2): every write completed before the call is durable when it resolves. */
  datasync(): Promise<void>;
}

/** The hash as the pipeline sees it (WorkerHash over the same ring, or a fake). */
export interface PipelineHash {
  update(offset: number, length: number): Promise<void>;
}

export interface WritePipelineOptions {
  file: PipelineFile;
  hash: PipelineHash;
  /** The shared memory of the slots: `slots × slotBytes` bytes. */
  ring: SharedArrayBuffer;
  slotBytes: number;
  slots: number;
  /** Bytes already durable (and already given to the hash) at the start. */
  start: number;
  /** fdatasync and checkpoint once this many bytes were written since the last one. */
  checkpointBytes: number;
  /** Called after each fdatasync with the durable length, one call at a time, increasing. */
  onCheckpoint?: (durableBytes: number) => Promise<void>;
}

interface SlotOp {
  slot: number;
  end: number;
  writeDone: boolean;
  writeOk: boolean;
  hashDone: boolean;
}

export class WritePipeline {
  /** Bytes accepted by push(): what the file and the hash hold once all is written. */
  received: number;
  /** The longest prefix of the file whose writes have all completed. */
  written: number;
  /** Fsynced and reported through onCheckpoint. */
  durable: number;

  private readonly o: WritePipelineOptions;
  private readonly view: Buffer;
  private readonly free: number[] = [];
  /** End of the bytes handed to slots that were dispatched. */
  private dispatched: number;
  private cur: { slot: number; fill: number } | undefined;
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  private ops: SlotOp[] = [];
  private syncing: Promise<void> | undefined;
  private failure: Error | undefined;
  private waiters: Array<{ until: () => boolean; resolve: () => void; reject: (e: Error) => void; evenIfFailed: boolean }> = [];

  constructor(options: WritePipelineOptions) {
    if (options.ring.byteLength < options.slots * options.slotBytes) throw new RangeError('the ring is smaller than slots × slotBytes');
    this.o = options;
    this.view = Buffer.from(options.ring, 0, options.slots * options.slotBytes);
    for (let i = options.slots - 1; i >= 0; i--) this.free.push(i);
    this.received = this.written = this.durable = this.dispatched = options.start;
  }

  /** The first error the pipeline met, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  /**
   * Takes a copy of `chunk` (the caller may reuse it at once). Returns false
   * when the pipeline is full: wait for drained() before the next bytes.
   */
  push(chunk: Buffer): boolean {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.received += chunk.length;
      const placed = this.backlogBytes === 0 ? this.copyIn(chunk) : 0;
      if (placed < chunk.length) {
        // No slot free: hold a copy of the rest until one is.
        this.backlog.push(Buffer.from(chunk.subarray(placed)));
        this.backlogBytes += chunk.length - placed;
      }
    }
    return this.hasRoom();
  }

  /**
   * The zero-copy path: a region of the current slot where the next at most
   * `max` bytes may be read directly (then commit() them); undefined when no
   * slot is free. The region stays reserved until the next commit().
   */
  space(max: number): Buffer | undefined {
    if (this.failure || this.backlogBytes > 0 || max <= 0) return undefined;
    if (!this.cur) {
      const slot = this.free.pop();
      if (slot === undefined) return undefined;
      this.cur = { slot, fill: 0 };
    }
    const at = this.cur.slot * this.o.slotBytes + this.cur.fill;
    return this.view.subarray(at, at + Math.min(max, this.o.slotBytes - this.cur.fill));
  }

  /** `n` bytes were read into the start of the region space() returned. Returns false when full (see push()). */
  commit(n: number): boolean {
    if (this.failure) throw this.failure;
    const cur = this.cur;
    if (!cur || cur.fill + n > this.o.slotBytes) throw new RangeError('commit() without a matching space()');
    this.received += n;
    cur.fill += n;
    if (cur.fill === this.o.slotBytes) this.dispatch();
    return this.hasRoom();
  }

  /** Whether bytes can be taken now without holding a copy. */
  hasRoom(): boolean {
    return !this.failure && this.backlogBytes === 0 && (this.cur !== undefined || this.free.length > 0);
  }

  /** Resolves when there is room again (push or space may go on); rejects on a failure. */
  drained(): Promise<void> {
    return this.wait(() => this.hasRoom(), false);
  }

  /** Sends a partly filled slot on its way (end of a response, or before settling). */
  flush(): void {
    if (this.failure || !this.cur || this.cur.fill === 0 || this.backlogBytes > 0) return;
    this.dispatch();
  }

  /** Everything pushed is written, fdatasynced and reported through onCheckpoint. */
  async settle(): Promise<void> {
    await this.wait(() => this.backlogBytes === 0, false);
    this.flush();
    await this.wait(() => this.ops.length === 0 && !this.syncing, false);
    if (this.written > this.durable) await this.startSync();
    if (this.failure) throw this.failure;
  }

  /** Waits until no write, hash or fsync is in flight, whatever failed (before closing the file). */
  idle(): Promise<void> {
    return this.wait(() => this.ops.length === 0 && !this.syncing, true);
  }

  /**
   * Marks the pipeline failed (e.g. aborted): nothing more is written, slots
   * not dispatched yet are dropped. Writes in flight complete (see idle()).
   */
  fail(e: Error): void {
    if (!this.failure) this.failure = e;
    this.backlog = [];
    this.backlogBytes = 0;
    this.changed();
  }

  /** After settle() and the file cut to 0 by the caller: the pipeline starts again at byte 0. */
  restartAtZero(): void {
    if (this.ops.length > 0 || this.syncing || this.backlogBytes > 0 || (this.cur?.fill ?? 0) > 0) throw new Error('restartAtZero() needs a settled pipeline');
    this.received = this.written = this.durable = this.dispatched = 0;
  }

  /** Copies as much of `data` as free slots take; returns how much. */
  private copyIn(data: Buffer): number {
    let done = 0;
    while (done < data.length && !this.failure) {
      if (!this.cur) {
        const slot = this.free.pop();
        if (slot === undefined) break;
        this.cur = { slot, fill: 0 };
      }
      const n = Math.min(data.length - done, this.o.slotBytes - this.cur.fill);
      data.copy(this.view, this.cur.slot * this.o.slotBytes + this.cur.fill, done, done + n);
      this.cur.fill += n;
      done += n;
      if (this.cur.fill === this.o.slotBytes) this.dispatch();
    }
    return done;
  }

  /** Moves held copies into slots as they free up, in order. */
  private pump(): void {
    while (this.backlog.length > 0 && !this.failure) {
      const chunk = this.backlog[0]!;
      const n = this.copyIn(chunk);
      this.backlogBytes -= n;
      if (n === chunk.length) this.backlog.shift();
      else {
        this.backlog[0] = chunk.subarray(n);
        return;
      }
    }
  }

  private dispatch(): void {
    const { slot, fill } = this.cur!;
    this.cur = undefined;
    const pos = this.dispatched;
    this.dispatched += fill;
    const op: SlotOp = { slot, end: this.dispatched, writeDone: false, writeOk: false, hashDone: false };
    this.ops.push(op);
    const offset = slot * this.o.slotBytes;
    this.o.hash.update(offset, fill).then(
      () => {
        op.hashDone = true;
        this.changed();
      },
      (e: unknown) => {
        op.hashDone = true;
        this.fail(asError(e));
      },
    );
    this.writeAll(this.view.subarray(offset, offset + fill), pos).then(
      () => {
        op.writeDone = op.writeOk = true;
        this.changed();
      },
      (e: unknown) => {
        op.writeDone = true;
        this.fail(asError(e));
      },
    );
  }

  private async writeAll(data: Buffer, pos: number): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const n = await this.o.file.write(data.subarray(off), pos + off);
      if (!(n > 0)) throw new Error(`a write at byte ${pos + off} wrote nothing`);
      off += n;
    }
  }

  /** Something finished: advance `written`, reuse slots, refill them, checkpoint, wake waiters. */
  private changed(): void {
    let i = 0;
    for (; i < this.ops.length; i++) {
      const op = this.ops[i]!;
      if (!op.writeOk) break;
      this.written = op.end;
    }
    // Slots are reused in file order once both their write and their hash are done.
    while (this.ops.length > 0 && this.ops[0]!.writeDone && this.ops[0]!.hashDone) this.free.push(this.ops.shift()!.slot);
    this.pump();
    this.maybeCheckpoint();
    this.waiters = this.waiters.filter((w) => {
      if (w.until()) {
        w.resolve();
        return false;
      }
      if (this.failure && !w.evenIfFailed) {
        w.reject(this.failure);
        return false;
      }
      return true;
    });
  }

  private maybeCheckpoint(): void {
    if (this.syncing || this.failure || this.written - this.durable < this.o.checkpointBytes) return;
    void this.startSync().catch(() => undefined);
  }

  /** One fdatasync covering the writes completed now, then the checkpoint; at most one at a time. */
  private startSync(): Promise<void> {
    const upto = this.written;
    const run = async (): Promise<void> => {
      await this.o.file.datasync();
      if (upto > this.durable && !this.failure) {
        this.durable = upto;
        await this.o.onCheckpoint?.(upto);
      }
    };
    const p = run().then(
      () => {
        this.syncing = undefined;
        this.changed();
      },
      (e: unknown) => {
        this.syncing = undefined;
        this.fail(asError(e));
        throw this.failure;
      },
    );
    this.syncing = p.catch(() => undefined);
    return p;
  }

  private wait(until: () => boolean, evenIfFailed: boolean): Promise<void> {
    if (until()) return Promise.resolve();
    if (this.failure && !evenIfFailed) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ until, resolve, reject, evenIfFailed }));
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
