/**
 * The download's write pipeline against a fake file whose writes complete
 * out of order and whose fdatasync makes durable exactly what had completed
 * when it was called (POSIX), so the checkpoint guarantee can be checked
 * at every step: a persisted length is never ahead of what is durable.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { WritePipeline } from '../../../../ota/agent/write-pipeline.js';
import type { PipelineFile, PipelineHash } from '../../../../ota/agent/write-pipeline.js';

/** A deterministic pseudo-random source (tests must not depend on luck). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function data(n: number, seed = 1): Buffer {
  const r = lcg(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes land after a random delay (so they complete out of order); datasync snapshots what completed before the call. */
class FakeFile implements PipelineFile {
  readonly content = Buffer.alloc(1 << 22);
  /** [start, end) ranges whose write completed. */
  readonly done: Array<[number, number]> = [];
  /** The length known durable: the contiguous completed prefix when the last finished datasync was called. */
  durable = 0;
  syncs = 0;
  writesInFlight = 0;
  maxWritesInFlight = 0;
  failAt: number | undefined;

  constructor(
    private readonly random: () => number,
    private readonly maxDelayMs = 4,
  ) {}

  async write(d: Buffer, position: number): Promise<number> {
    this.writesInFlight++;
    this.maxWritesInFlight = Math.max(this.maxWritesInFlight, this.writesInFlight);
    const copy = Buffer.from(d);
    await tick(Math.floor(this.random() * this.maxDelayMs));
    this.writesInFlight--;
    if (this.failAt !== undefined && position <= this.failAt && this.failAt < position + d.length) throw Object.assign(new Error('EIO'), { code: 'EIO' });
    // Short writes now and then: the pipeline must write the rest.
    const n = copy.length > 1000 && this.random() < 0.2 ? Math.floor(copy.length / 2) : copy.length;
    copy.copy(this.content, position, 0, n);
    this.done.push([position, position + n]);
    return n;
  }

  prefix(): number {
    let end = 0;
    for (const [s, e] of [...this.done].sort((a, b) => a[0] - b[0])) {
      if (s > end) break;
      end = Math.max(end, e);
    }
    return end;
  }

  async datasync(): Promise<void> {
    const covered = this.prefix();
    await tick(Math.floor(this.random() * this.maxDelayMs) + 1);
    this.durable = Math.max(this.durable, covered);
    this.syncs++;
  }
}

/** Hashes the ring's bytes in the order asked, each after a random delay (as the worker's queue does). */
class FakeHash implements PipelineHash {
  readonly h = createHash('sha256');
  private queue: Promise<void> = Promise.resolve();
  constructor(
    private readonly ring: SharedArrayBuffer,
    private readonly random: () => number,
  ) {}
  update(offset: number, length: number): Promise<void> {
    this.queue = this.queue.then(async () => {
      await tick(Math.floor(this.random() * 3));
      // The bytes are read only now: a slot reused before its hash resolved would show up as a wrong hash.
      this.h.update(Buffer.from(this.ring, offset, length));
    });
    return this.queue;
  }
}

function setup(options: { slotBytes: number; slots: number; checkpointBytes: number; start?: number; seed?: number }) {
  const random = lcg(options.seed ?? 7);
  const ring = new SharedArrayBuffer(options.slotBytes * options.slots);
  const file = new FakeFile(random);
  const hash = new FakeHash(ring, random);
  const checkpoints: number[] = [];
  const pipe = new WritePipeline({
    file,
    hash,
    ring,
    slotBytes: options.slotBytes,
    slots: options.slots,
    start: options.start ?? 0,
    checkpointBytes: options.checkpointBytes,
    onCheckpoint: async (n) => {
      // The guarantee: what the caller persists is durable already.
      assert.ok(n <= file.durable, `checkpoint ${n} is ahead of the durable ${file.durable}`);
      checkpoints.push(n);
      await tick(1);
    },
  });
  return { pipe, file, hash, checkpoints, random };
}

/** Feeds `src` in random-sized pieces through push() and (zero-copy) space()/commit(), honouring backpressure. */
async function feed(pipe: WritePipeline, src: Buffer, random: () => number): Promise<void> {
  let at = 0;
  while (at < src.length) {
    const n = Math.min(src.length - at, 1 + Math.floor(random() * 50_000));
    let room: boolean;
    const region = random() < 0.5 ? pipe.space(n) : undefined;
    if (region) {
      src.copy(region, 0, at, at + region.length);
      at += region.length;
      room = pipe.commit(region.length);
    } else {
      // The caller's buffer is reused at once: the pipeline must have taken a copy.
      const piece = Buffer.from(src.subarray(at, at + n));
      room = pipe.push(piece);
      piece.fill(0xaa);
      at += n;
    }
    if (!room) await pipe.drained();
  }
}

test('bytes land in order, the hash sees them in order, checkpoints are never ahead of fdatasync and only grow', async () => {
  const src = data(3_000_000);
  const { pipe, file, hash, checkpoints, random } = setup({ slotBytes: 64 * 1024, slots: 4, checkpointBytes: 256 * 1024 });
  await feed(pipe, src, random);
  await pipe.settle();
  assert.is(pipe.received, src.length);
  assert.is(pipe.written, src.length);
  assert.is(pipe.durable, src.length);
  assert.ok(file.content.subarray(0, src.length).equals(src), 'file content');
  assert.is(hash.h.digest('hex'), createHash('sha256').update(src).digest('hex'));
  assert.is(checkpoints.at(-1), src.length);
  assert.ok(checkpoints.length >= 5, `checkpoints along the way: ${checkpoints.join(',')}`);
  for (let i = 1; i < checkpoints.length; i++) assert.ok(checkpoints[i]! > checkpoints[i - 1]!, 'increasing');
  assert.ok(file.maxWritesInFlight >= 2, 'several writes overlap');
  assert.ok(file.maxWritesInFlight <= 4, 'no more writes than slots');
});

test('backpressure: with every slot busy the pipeline says so, and holds at most one caller chunk beyond its slots', async () => {
  const { pipe, file, random } = setup({ slotBytes: 16 * 1024, slots: 2, checkpointBytes: 1 << 30 });
  void random;
  // Two full slots go out to slow writes; the third push finds no slot.
  assert.ok(pipe.push(Buffer.alloc(16 * 1024, 1)));
  const second = pipe.push(Buffer.alloc(16 * 1024, 2));
  assert.not.ok(second, 'both slots are writing');
  assert.not.ok(pipe.hasRoom());
  assert.is(pipe.space(100), undefined, 'no zero-copy region either');
  await pipe.drained();
  assert.ok(pipe.hasRoom());
  await pipe.settle();
  assert.is(file.prefix(), 32 * 1024);
});

test('resuming at an unaligned offset: positions continue from the start given', async () => {
  const src = data(500_000, 3);
  const start = 123_457;
  const { pipe, file, random } = setup({ slotBytes: 32 * 1024, slots: 3, checkpointBytes: 64 * 1024, start });
  src.copy(file.content, 0, 0, start);
  file.done.push([0, start]);
  await feed(pipe, src.subarray(start), random);
  await pipe.settle();
  assert.is(pipe.durable, src.length);
  assert.ok(file.content.subarray(0, src.length).equals(src));
});

test('a failed write is sticky: later bytes are refused, settle fails, the checkpoint stays below the failed range, idle() waits for writes in flight', async () => {
  const src = data(1_000_000, 5);
  const { pipe, file, checkpoints, random } = setup({ slotBytes: 32 * 1024, slots: 4, checkpointBytes: 64 * 1024 });
  file.failAt = 600_000;
  const err = await feed(pipe, src, random).then(
    () => pipe.settle(),
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error && (err as NodeJS.ErrnoException).code === 'EIO', String(err));
  assert.ok(pipe.error);
  assert.throws(() => pipe.push(Buffer.alloc(10)));
  await pipe.idle();
  assert.is(file.writesInFlight, 0, 'nothing in flight once idle');
  assert.ok(pipe.durable <= 600_000 && (checkpoints.at(-1) ?? 0) <= 600_000, `durable ${pipe.durable}`);
  assert.ok(file.content.subarray(0, pipe.durable).equals(src.subarray(0, pipe.durable)));
});

test('fail() mid-pipeline (an abort): nothing more is written, writes already started complete, what is durable is good', async () => {
  const src = data(2_000_000, 9);
  const { pipe, file, checkpoints, random } = setup({ slotBytes: 64 * 1024, slots: 4, checkpointBytes: 128 * 1024 });
  const feeding = feed(pipe, src, random).catch((e: unknown) => e);
  while (pipe.durable < 500_000) await tick(1);
  pipe.fail(new Error('aborted'));
  const err = await feeding;
  assert.ok(err instanceof Error && err.message === 'aborted', String(err));
  await pipe.idle();
  assert.is(file.writesInFlight, 0);
  const last = checkpoints.at(-1)!;
  assert.ok(last >= 500_000 && last <= file.durable);
  assert.ok(file.content.subarray(0, last).equals(src.subarray(0, last)), 'the durable prefix is the download');
  const before = file.done.length;
  await tick(20);
  assert.is(file.done.length, before, 'no write after idle');
});

test('restartAtZero needs a settled pipeline and then writes from byte 0 again', async () => {
  const { pipe, file } = setup({ slotBytes: 8, slots: 2, checkpointBytes: 8 });
  pipe.push(Buffer.from('abcdefghij'));
  assert.throws(() => pipe.restartAtZero(), /settled/);
  await pipe.settle();
  assert.is(file.content.toString('latin1', 0, 10), 'abcdefghij');
  pipe.restartAtZero();
  assert.is(pipe.received, 0);
  pipe.push(Buffer.from('XYZ'));
  await pipe.settle();
  assert.is(file.content.toString('latin1', 0, 10), 'XYZdefghij');
  assert.is(pipe.durable, 3);
});

test.run();
