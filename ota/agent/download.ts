/**
 * The bundle download: HTTP(S) GET with Range resume (RFC 9110 §14), a
 * streaming SHA-256 of the whole file, rate-limited progress, bounded
 * retries with backoff, cancellable through an AbortSignal.
 *
 * - Durability: the file is fsynced every `checkpointBytes` and the caller
 *   persists that length; after a crash or power cut the file is cut back
 *   to the last durable length, so a torn tail can never end up inside the
 *   hash (which would waste the whole download at the verify step).
 * - Retries are bounded by consecutive attempts *without progress*: a
 *   server that drops the connection every few megabytes still gets the
 *   file through, a dead one gives up after `maxAttempts`.
 * - A server that ignores Range (200 to a ranged GET) restarts the file
 *   from zero rather than appending a second copy.
 * - Sizes are checked against the target as they arrive: a server sending
 *   more bytes than promised is cut off (never fill the disk).
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../firmware/src/util/clock.js';
import { httpGet, parseContentRange } from './http-get.js';
import { AbortedError, backoffDelay, isAborted, sleep, throwIfAborted } from './timing.js';

export interface DownloadTuning {
  maxAttempts: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** A response that sends nothing for this long is dropped and retried. */
  stallTimeoutMs: number;
  /** fsync and checkpoint after this many bytes. */
  checkpointBytes: number;
}

export const DEFAULT_DOWNLOAD_TUNING: DownloadTuning = {
  maxAttempts: 8,
  minBackoffMs: 2_000,
  maxBackoffMs: 300_000,
  stallTimeoutMs: 60_000,
  checkpointBytes: 16 * 1024 * 1024,
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
  onResponse?: (res: IncomingMessage) => void;
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

async function rehash(file: string, bytes: number, hash: Hash, signal: AbortSignal): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    throwIfAborted(signal);
    hash.update(chunk);
  }
}

/** Received data is written in batches of this size (one write in flight while the next batch arrives). */
const WRITE_BATCH = 1 << 20;

/** Downloads into `file`; resolves with the SHA-256 (hex) of the whole file. */
export async function downloadBundle(p: DownloadParams): Promise<{ sha256: string }> {
  const fh = await openForResume(p.file);
  try {
    const st = await fh.stat();
    // `have`: received and hashed; `written`: on its way to the file (writes complete in order);
    // `durable`: fsynced and reported through onCheckpoint.
    let have = Math.min(p.startFrom, st.size, p.size);
    // Anything past the durable length may be torn by a power cut: drop it.
    await fh.truncate(have);
    let hash = createHash('sha256');
    await rehash(p.file, have, hash, p.signal);
    let written = have;
    let durable = have;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let inflight: Promise<unknown> = Promise.resolve();
    let syncing: Promise<void> | undefined;
    let failures = 0;
    p.onProgress?.(have);

    /** Starts writing the pending batch; waits only for the previous write (one in flight). */
    const flushBatch = async (): Promise<void> => {
      await inflight;
      if (pendingBytes === 0) return;
      const batch = pending;
      const pos = written;
      written += pendingBytes;
      pending = [];
      pendingBytes = 0;
      inflight = writeAll(batch, pos);
      // Handled here so a failure waits for the next await instead of crashing the process.
      inflight.catch(() => undefined);
    };

    const writeAll = async (batch: Buffer[], pos: number): Promise<void> => {
      let bufs = batch;
      let at = pos;
      while (bufs.length > 0) {
        const n = await fh.writev(bufs, at);
        const { bytesWritten } = n;
        at += bytesWritten;
        // Short write: drop what went out and retry the rest.
        let skip = bytesWritten;
        while (bufs.length > 0 && skip >= bufs[0]!.length) skip -= bufs.shift()!.length;
        if (skip > 0) bufs = [bufs[0]!.subarray(skip), ...bufs.slice(1)];
      }
    };

    /** Starts an fsync in the background (the download goes on meanwhile); at most one at a time. */
    const maybeCheckpoint = (): void => {
      if (syncing || written - durable < p.tuning.checkpointBytes) return;
      const upto = written;
      syncing = inflight
        .then(() => fh.sync())
        .then(async () => {
          durable = upto;
          await p.onCheckpoint?.(durable);
        })
        .finally(() => {
          syncing = undefined;
        });
      syncing.catch(() => undefined);
    };

    /** Everything received is written and fsynced, and the checkpoint reported. */
    const settle = async (): Promise<void> => {
      await flushBatch();
      await inflight;
      await syncing;
      if (written !== durable) {
        await fh.sync();
        durable = written;
        await p.onCheckpoint?.(durable);
      }
    };

    while (have < p.size) {
      throwIfAborted(p.signal);
      const before = have;
      try {
        await fetchOnce();
      } catch (e) {
        // Keep what arrived, whatever happens next (a retry resumes from it).
        await settle().catch(() => undefined);
        if (isAborted(e) || p.signal.aborted) throw new AbortedError();
        if (e instanceof DownloadFailure) throw e;
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new DownloadFailure('insufficient-space', 'the disk filled up during the download');
        if (have > before) failures = 0;
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
      await settle();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new DownloadFailure('insufficient-space', 'the disk filled up during the download');
      throw e;
    }
    return { sha256: hash.digest('hex') };

    async function fetchOnce(): Promise<void> {
      const ac = new AbortController();
      const onOuterAbort = (): void => ac.abort();
      p.signal.addEventListener('abort', onOuterAbort, { once: true });
      let lastData = p.clock.monotonic();
      let stalled = false;
      // Stall watchdog on the injected clock, checked at a quarter of the timeout.
      const period = Math.max(1, Math.floor(p.tuning.stallTimeoutMs / 4));
      let watchdog = p.clock.setTimer(period, function tick() {
        if (p.clock.monotonic() - lastData >= p.tuning.stallTimeoutMs) {
          stalled = true;
          ac.abort();
          return;
        }
        watchdog = p.clock.setTimer(period, tick);
      });
      try {
        let res: IncomingMessage;
        try {
          res = await httpGet(p.url, { headers: { range: `bytes=${have}-` }, signal: ac.signal, ca: p.ca });
        } catch (e) {
          if (stalled) throw new Error('no answer from the server');
          throw e;
        }
        p.onResponse?.(res);
        const status = res.statusCode ?? 0;
        if (status === 206) {
          const cr = parseContentRange(res.headers['content-range']);
          if (!cr || cr.start !== have) {
            res.resume();
            throw new Error(`the server answered range ${res.headers['content-range'] ?? '(none)'} to bytes=${have}-`);
          }
          if (cr.total !== undefined && cr.total !== p.size) {
            res.resume();
            throw new DownloadFailure('size-mismatch', `the server says the bundle is ${cr.total} bytes; the target says ${p.size}`);
          }
        } else if (status === 200) {
          const len = res.headers['content-length'];
          if (len !== undefined && Number(len) !== p.size) {
            res.resume();
            throw new DownloadFailure('size-mismatch', `the server says the bundle is ${len} bytes; the target says ${p.size}`);
          }
          if (have > 0) {
            // Range ignored: start over rather than append a second copy.
            await settle();
            await fh.truncate(0);
            have = 0;
            written = 0;
            durable = 0;
            hash = createHash('sha256');
            p.onProgress?.(0);
          }
        } else if (status === 416 && have === p.size) {
          res.resume();
          return;
        } else {
          res.resume();
          throw new Error(`GET answered HTTP ${status}`);
        }
        try {
          for await (const chunk of res as AsyncIterable<Buffer>) {
            lastData = p.clock.monotonic();
            let data = chunk;
            if (have + data.length > p.size) {
              data = data.subarray(0, p.size - have);
              if (data.length > 0) await write(data);
              throw new DownloadFailure('size-mismatch', `the server sent more than the ${p.size} bytes the target names`);
            }
            await write(data);
            maybeCheckpoint();
          }
        } catch (e) {
          if (e instanceof DownloadFailure) throw e;
          if (stalled) throw new Error(`no data for ${p.tuning.stallTimeoutMs} ms`);
          throw e;
        }
        if (have < p.size && res.complete === false) throw new Error('the connection closed early');
        if (have < p.size) throw new Error(`the response ended at byte ${have} of ${p.size}`);
      } finally {
        watchdog.cancel();
        p.signal.removeEventListener('abort', onOuterAbort);
      }
    }

    async function write(data: Buffer): Promise<void> {
      hash.update(data);
      pending.push(data);
      pendingBytes += data.length;
      have += data.length;
      p.onProgress?.(have);
      if (pendingBytes >= Math.min(WRITE_BATCH, p.tuning.checkpointBytes)) await flushBatch();
    }
  } finally {
    await fh.close();
  }
}
