/**
 * The download's SHA-256 on a worker thread, fed from shared memory.
 *
 * Why a thread: on the box's small CPUs, hashing costs as much CPU per
 * byte as receiving it (about 1 ms per MiB each on this 2-core VM), and on
 * the main thread the two add up and cap the download well below what the
 * disk can take (issue 4's benchmark: 26 % of the raw write speed). On a
 * thread of its own the hash runs while the next data arrives.
 *
 * How: the download copies what it receives into slots of a
 * SharedArrayBuffer and posts `update(offset, length)`; the worker hashes
 * the slot in place and answers, and only then may the slot be reused.
 * Messages are handled in the order they were posted, so the hash covers
 * the bytes in file order. A resumed download first posts `hashFile(path,
 * bytes)`: the worker reads the part that was already on disk once, and the
 * new data queues behind it (the receive does not wait for that read).
 *
 * Errors are sticky: once an operation failed (or the thread died), every
 * later one fails too, so a hash can never skip a range.
 *
 * The worker's code is a string evaluated by node:worker_threads, not a
 * module file: the gateway ships as one bundled file (tsup), and an eval
 * worker needs no second entry point; it uses only node: built-ins.
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const ring = Buffer.from(workerData.ring);
let hash = createHash('sha256');
let failed;
function hashFile(path, bytes) {
  const fd = fs.openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    while (pos < bytes) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, bytes - pos), pos);
      if (n <= 0) throw new Error(path + ' ended at byte ' + pos + ' of the ' + bytes + ' to hash');
      hash.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}
parentPort.on('message', (m) => {
  if (failed !== undefined) {
    parentPort.postMessage({ id: m.id, error: failed });
    return;
  }
  try {
    let value;
    if (m.op === 'update') hash.update(ring.subarray(m.offset, m.offset + m.length));
    else if (m.op === 'file') hashFile(m.path, m.bytes);
    else if (m.op === 'reset') hash = createHash('sha256');
    else if (m.op === 'digest') value = hash.digest('hex');
    else throw new Error('unknown op ' + m.op);
    parentPort.postMessage({ id: m.id, value });
  } catch (e) {
    failed = String(e && e.message ? e.message : e);
    parentPort.postMessage({ id: m.id, error: failed });
  }
});
`;

type Request = { op: 'update'; offset: number; length: number } | { op: 'file'; path: string; bytes: number } | { op: 'reset' } | { op: 'digest' };

interface Reply {
  id: number;
  value?: string;
  error?: string;
}

export class WorkerHash {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: string | undefined) => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;

  /** Starts the thread; `ring` is the shared memory that `update()` offsets point into. */
  constructor(readonly ring: SharedArrayBuffer) {
    // execArgv: [] so the thread does not load the parent's loaders (tsx in development): it needs none.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring }, execArgv: [] });
    // Not unref()'d: an answer still awaited must keep the process alive; close() ends the thread.
    this.worker.on('message', (r: Reply) => {
      const w = this.pending.get(r.id);
      if (!w) return;
      this.pending.delete(r.id);
      if (r.error !== undefined) w.reject(new Error(`hashing the download: ${r.error}`));
      else w.resolve(r.value);
    });
    this.worker.on('error', (e) => this.die(e));
    this.worker.on('exit', (code) => this.die(new Error(`the hash thread ended (exit code ${code})`)));
  }

  /** Adds `length` bytes of the ring at `offset`; resolves once they are hashed (the slot may be reused). */
  update(offset: number, length: number): Promise<void> {
    return this.call({ op: 'update', offset, length }).then(() => undefined);
  }

  /** Adds the first `bytes` of a file (the part a resumed download already has). */
  hashFile(path: string, bytes: number): Promise<void> {
    return this.call({ op: 'file', path, bytes }).then(() => undefined);
  }

  /** Starts over from an empty hash (the server ignored Range and sends the file from byte 0). */
  reset(): Promise<void> {
    return this.call({ op: 'reset' }).then(() => undefined);
  }

  /** SHA-256 (hex) of everything added so far. */
  async digest(): Promise<string> {
    const v = await this.call({ op: 'digest' });
    if (typeof v !== 'string') throw new Error('the hash thread answered no digest');
    return v;
  }

  /** Ends the thread; operations not answered yet fail. */
  async close(): Promise<void> {
    this.die(new Error('the hash thread was closed'));
    await this.worker.terminate();
  }

  private call(req: Request): Promise<string | undefined> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  private die(e: Error): void {
    if (!this.dead) this.dead = e;
    for (const w of this.pending.values()) w.reject(this.dead);
    this.pending.clear();
  }
}
