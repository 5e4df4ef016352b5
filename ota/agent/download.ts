/**
 * The bundle download: HTTP(S) GET with Range resume (RFC 9110 §14), a
 * streaming SHA-256 of the whole file, rate-limited progress, bounded
 * retries with backoff, cancellable through an AbortSignal.
 *
 * - Speed (issue 4: at least 80 % of the disk's own write speed): the body
 *   is read straight into shared slots by our own HTTP/1.1 GET
 *   (direct-get.ts), hashed on a worker thread (worker-hash.ts) and written
 *   several slots at a time with the fdatasync in the background
 *   (write-pipeline.ts); docs/OTA.md "The download" has the picture.
 * - Durability: the file is fdatasynced every `checkpointBytes` and the
 *   caller persists that length, never more than what the sync covered;
 *   after a crash or power cut the file is cut back to the last durable
 *   length, so a torn tail can never end up inside the hash (which would
 *   waste the whole download at the verify step).
 * - Retries are bounded by consecutive attempts *without progress*: a
 *   server that drops the connection every few megabytes still gets the
 *   file through, a dead one gives up after `maxAttempts`.
 * - A server that ignores Range (200 to a ranged GET) restarts the file
 *   from zero rather than appending a second copy.
 * - Sizes are checked against the target as they arrive: a server sending
 *   more bytes than promised is cut off (never fill the disk).
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Clock } from '../../firmware/src/util/clock.js';
import { BodyTooLongError, directGet } from './direct-get.js';
import type { DirectResponse } from './direct-get.js';
import { parseContentRange } from './http-get.js';
import { AbortedError, backoffDelay, isAborted, sleep, throwIfAborted } from './timing.js';
import { WorkerHash } from './worker-hash.js';
import { WritePipeline } from './write-pipeline.js';
import type { PipelineFile } from './write-pipeline.js';

export interface DownloadTuning {
  maxAttempts: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** A response that sends nothing for this long is dropped and retried. */
  stallTimeoutMs: number;
  /** fdatasync and checkpoint after this many bytes. */
  checkpointBytes: number;
  /** Received data is copied into slots of this size; a full slot is hashed and written (at most checkpointBytes). */
  slotBytes: number;
  /** Slots in flight (hashing, writing or filling): the download's buffer memory is slots × slotBytes. */
  slots: number;
}

export const DEFAULT_DOWNLOAD_TUNING: DownloadTuning = {
  maxAttempts: 8,
  minBackoffMs: 2_000,
  maxBackoffMs: 300_000,
  stallTimeoutMs: 60_000,
  checkpointBytes: 16 * 1024 * 1024,
  slotBytes: 1024 * 1024,
  slots: 8,
};

export interface DownloadParams {
  url: string;
  file: string;
  /** Expected bundle size. */
  size: number;
  /** Bytes known durable on disk from an earlier run. */
  startFrom: number;
  clock: Clock;
  random: () => number;
  signal: AbortSignal;
  tuning: DownloadTuning;
  ca?: string | Buffer;
  onProgress?: (bytes: number) => void;
  /** Called after each fsync with the durable length; persist it. */
  onCheckpoint?: (durableBytes: number) => Promise<void>;
  /** Each response's status and header fields (e.g. Date, for the clock's trust). */
  onResponse?: (res: { status: number; headers: Readonly<Record<string, string | undefined>> }) => void;
  onRetry?: (info: { failures: number; delayMs: number; error: string }) => void;
}

export type DownloadFailureCode = 'download-failed' | 'size-mismatch' | 'insufficient-space';

export class DownloadFailure extends Error {
  constructor(
    readonly code: DownloadFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'DownloadFailure';
  }
}

async function openForResume(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return open(file, 'w+', 0o600);
    throw e;
  }
}

/** The pipeline's writes and fdatasyncs on a FileHandle. */
function pipelineFile(fh: FileHandle): PipelineFile {
  return {
    write: async (data, position) => (await fh.write(data, 0, data.length, position)).bytesWritten,
    datasync: () => fh.datasync(),
  };
}

/** A disk error ends the download (a retry would not help): a full disk is the target's fault, with its own code. */
function diskFailure(e: Error): Error {
  if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return new DownloadFailure('insufficient-space', 'the disk filled up during the download');
  return e;
}

/** Downloads into `file`; resolves with the SHA-256 (hex) of the whole file. */
export async function downloadBundle(p: DownloadParams): Promise<{ sha256: string }> {
  // Slots no larger than the checkpoint interval, so a small download checkpoints too.
  const slotBytes = Math.max(1, Math.min(p.tuning.slotBytes, p.tuning.checkpointBytes));
  const ring = new SharedArrayBuffer(slotBytes * p.tuning.slots);
  const hasher = new WorkerHash(ring);
  let fh: FileHandle | undefined;
  let pipe: WritePipeline | undefined;
  const onAbort = (): void => pipe?.fail(new AbortedError());
  p.signal.addEventListener('abort', onAbort, { once: true });
  try {
    throwIfAborted(p.signal);
    fh = await openForResume(p.file);
    const st = await fh.stat();
    // Anything past the durable length may be torn by a power cut: drop it.
    const start = Math.min(p.startFrom, st.size, p.size);
    await fh.truncate(start);
    // The part already on disk is read and hashed once, on the hash thread; the new data's hash
    // queues behind it, so receiving starts at once. Its failure is sticky (digest() reports it).
    const rehashed = start > 0 ? hasher.hashFile(p.file, start) : Promise.resolve();
    rehashed.catch(() => undefined);
    const pl = new WritePipeline({
      file: pipelineFile(fh),
      hash: hasher,
      ring,
      slotBytes,
      slots: p.tuning.slots,
      start,
      checkpointBytes: p.tuning.checkpointBytes,
      onCheckpoint: p.onCheckpoint,
    });
    pipe = pl;
    const file = fh;
    let failures = 0;
    p.onProgress?.(start);

    while (pl.received < p.size) {
      throwIfAborted(p.signal);
      const before = pl.received;
      try {
        await fetchOnce();
      } catch (e) {
        if (isAborted(e) || p.signal.aborted) throw new AbortedError();
        if (e instanceof DownloadFailure) throw e;
        if (pl.error) throw diskFailure(pl.error);
        // Keep what arrived: the retry resumes from it, and a power cut during the backoff loses none of it.
        await pl.settle().catch(() => undefined);
        if (p.signal.aborted) throw new AbortedError();
        if (pl.error) throw diskFailure(pl.error);
        if (pl.received > before) failures = 0;
        failures++;
        const msg = (e as Error).message;
        if (failures >= p.tuning.maxAttempts)
          throw new DownloadFailure('download-failed', `gave up after ${failures} attempts without progress: ${msg}`);
        const delayMs = backoffDelay(failures - 1, p.tuning.minBackoffMs, p.tuning.maxBackoffMs, p.random);
        p.onRetry?.({ failures, delayMs, error: msg });
        await sleep(p.clock, delayMs, p.signal);
      }
    }
    try {
      await pl.settle();
    } catch (e) {
      if (p.signal.aborted) throw new AbortedError();
      throw diskFailure(e as Error);
    }
    return { sha256: await hasher.digest() };

    async function fetchOnce(): Promise<void> {
      const ac = new AbortController();
      const onOuterAbort = (): void => ac.abort();
      p.signal.addEventListener('abort', onOuterAbort, { once: true });
      let lastData = p.clock.monotonic();
      let stalled = false;
      // Stall watchdog on the injected clock, checked at a quarter of the timeout. While every
      // buffer is busy (the disk or the hash is behind) the socket is paused on purpose: not a stall.
      const period = Math.max(1, Math.floor(p.tuning.stallTimeoutMs / 4));
      let watchdog = p.clock.setTimer(period, function tick() {
        if (!pl.hasRoom()) lastData = p.clock.monotonic();
        if (p.clock.monotonic() - lastData >= p.tuning.stallTimeoutMs) {
          stalled = true;
          ac.abort();
          return;
        }
        watchdog = p.clock.setTimer(period, tick);
      });
      try {
        let res: DirectResponse;
        try {
          res = await directGet(p.url, { headers: { Range: `bytes=${pl.received}-` }, signal: ac.signal, ca: p.ca });
        } catch (e) {
          if (stalled) throw new Error('no answer from the server');
          throw e;
        }
        p.onResponse?.(res);
        const status = res.status;
        if (status === 206) {
          const cr = parseContentRange(res.headers['content-range']);
          if (!cr || cr.start !== pl.received) {
            res.close();
            throw new Error(`the server answered range ${res.headers['content-range'] ?? '(none)'} to bytes=${pl.received}-`);
          }
          if (cr.total !== undefined && cr.total !== p.size) {
            res.close();
            throw new DownloadFailure('size-mismatch', `the server says the bundle is ${cr.total} bytes; the target says ${p.size}`);
          }
        } else if (status === 200) {
          if (res.contentLength !== undefined && res.contentLength !== p.size) {
            res.close();
            throw new DownloadFailure('size-mismatch', `the server says the bundle is ${res.contentLength} bytes; the target says ${p.size}`);
          }
          if (pl.received > 0) {
            // Range ignored: start over rather than append a second copy. Everything in flight
            // lands first, and the hash thread is done reading the old part before the file is cut;
            // the persisted length goes back to 0 before new bytes are written over the old ones.
            await pl.settle();
            await rehashed;
            throwIfAborted(p.signal);
            await file.truncate(0);
            await file.datasync();
            pl.restartAtZero();
            await hasher.reset();
            await p.onCheckpoint?.(0);
            p.onProgress?.(0);
          }
        } else if (status === 416 && pl.received === p.size) {
          res.close();
          return;
        } else {
          res.close();
          throw new Error(`GET answered HTTP ${status}`);
        }
        const limit = p.size - pl.received;
        if (res.contentLength !== undefined && res.contentLength > limit) {
          res.close();
          throw new DownloadFailure('size-mismatch', `the server sends ${res.contentLength} bytes from byte ${pl.received}; the target's ${p.size} leave ${limit}`);
        }
        try {
          await res.readBody(pl, limit, () => {
            lastData = p.clock.monotonic();
            p.onProgress?.(pl.received);
          });
          pl.flush();
        } catch (e) {
          if (e instanceof BodyTooLongError) throw new DownloadFailure('size-mismatch', `the server sent more than the ${p.size} bytes the target names`);
          if (stalled) throw new Error(`no data for ${p.tuning.stallTimeoutMs} ms`);
          throw e;
        }
        if (pl.received < p.size) throw new Error(`the response ended at byte ${pl.received} of ${p.size}`);
      } finally {
        watchdog.cancel();
        p.signal.removeEventListener('abort', onOuterAbort);
      }
    }
  } finally {
    p.signal.removeEventListener('abort', onAbort);
    // Pending hashes fail at once; writes already started complete before the file is closed.
    await hasher.close();
    if (pipe) {
      pipe.fail(new Error('the download ended'));
      await pipe.idle();
    }
    await fh?.close();
  }
}
