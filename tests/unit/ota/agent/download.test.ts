import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { DEFAULT_DOWNLOAD_TUNING, DownloadFailure, downloadBundle } from '../../../../ota/agent/download.js';
import type { DownloadParams } from '../../../../ota/agent/download.js';
import { backoffDelay } from '../../../../ota/agent/timing.js';
import { startBundleServer } from '../support/bundle-server.js';
import type { BundleServer } from '../support/bundle-server.js';
import { tempDir } from '../support/bundles.js';
import { drive } from '../support/drive.js';

const SIZE = 3 * 1024 * 1024 + 123;
let dir: Awaited<ReturnType<typeof tempDir>>;
let server: BundleServer;
let src: string;
let sha: string;

test.before(async () => {
  dir = await tempDir();
  src = join(dir.path, 'src.bin');
  const data = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, Math.min(i, SIZE - 4));
  await writeFile(src, data);
  sha = createHash('sha256').update(data).digest('hex');
  server = await startBundleServer();
  server.serve('b', src);
});

test.after(async () => {
  await server.close();
  await dir.remove();
});

test.before.each(() => {
  for (const k of Object.keys(server.behaviour)) delete (server.behaviour as Record<string, unknown>)[k];
  server.requests.length = 0;
});

function params(clock: FakeClock, file: string, extra: Partial<DownloadParams> = {}): DownloadParams {
  return {
    url: server.url('b'),
    file,
    size: SIZE,
    startFrom: 0,
    clock,
    random: () => 0.5,
    signal: new AbortController().signal,
    tuning: { ...DEFAULT_DOWNLOAD_TUNING, minBackoffMs: 1_000, maxBackoffMs: 8_000, checkpointBytes: 512 * 1024, maxAttempts: 4, stallTimeoutMs: 600_000 },
    ...extra,
  };
}

test('a download cut three times resumes with Range each time and hashes right', async () => {
  server.behaviour.cutAfterBytes = 700_000;
  server.behaviour.cutTimes = 3;
  const clock = new FakeClock();
  const file = join(dir.path, 'cut.part');
  const checkpoints: number[] = [];
  const r = await drive(clock, downloadBundle(params(clock, file, { onCheckpoint: async (n) => void checkpoints.push(n) })));
  assert.is(r.sha256, sha);
  assert.is((await stat(file)).size, SIZE);
  const starts = server.requests.map((q) => Number(/bytes=(\d+)-/.exec(q.range ?? '')?.[1]));
  assert.is(starts.length, 4);
  assert.is(starts[0], 0);
  for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! > starts[i - 1]!, `request ${i} resumes further on`);
  assert.is(checkpoints.at(-1), SIZE);
  // Durable checkpoints come along the way (every 512 KiB here), not only at the end.
  assert.ok(checkpoints.length >= 5, `checkpoints: ${checkpoints.join(',')}`);
  for (let i = 1; i < checkpoints.length; i++) assert.ok(checkpoints[i]! > checkpoints[i - 1]!);
});

test('a server that ignores Range restarts the file instead of appending', async () => {
  server.behaviour.cutAfterBytes = 1_000_000;
  server.behaviour.cutTimes = 1;
  server.behaviour.ignoreRange = true;
  const clock = new FakeClock();
  const file = join(dir.path, 'norange.part');
  const r = await drive(clock, downloadBundle(params(clock, file)));
  assert.is(r.sha256, sha);
  assert.is((await stat(file)).size, SIZE);
});

test('retries are bounded and back off on the clock (no progress: 404)', async () => {
  server.behaviour.failStatus = 404;
  server.behaviour.failTimes = 100;
  const clock = new FakeClock();
  const delays: number[] = [];
  const started = clock.now();
  const err = await drive(clock, downloadBundle(params(clock, join(dir.path, '404.part'), { onRetry: (i) => void delays.push(i.delayMs) }))).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof DownloadFailure && err.code === 'download-failed', String(err));
  assert.is(server.requests.length, 4);
  assert.equal(delays, [backoffDelay(0, 1_000, 8_000, () => 0.5), backoffDelay(1, 1_000, 8_000, () => 0.5), backoffDelay(2, 1_000, 8_000, () => 0.5)]);
  assert.ok(delays[1]! > delays[0]! && delays[2]! > delays[1]!, 'delays grow');
  assert.ok(clock.now() - started >= delays.reduce((a, b) => a + b, 0), 'the waits happened on the injected clock');
});

test('backoff is capped and jittered within [cap/2, cap]', () => {
  for (let a = 0; a < 40; a++) {
    const lo = backoffDelay(a, 1_000, 60_000, () => 0);
    const hi = backoffDelay(a, 1_000, 60_000, () => 0.999999);
    const cap = Math.min(60_000, 1_000 * 2 ** a);
    assert.is(lo, cap / 2);
    assert.ok(hi <= cap && hi >= cap - 1);
  }
});

test('progress resets the failure count: more cuts than maxAttempts still finish', async () => {
  server.behaviour.cutAfterBytes = 400_000;
  server.behaviour.cutTimes = 7;
  const clock = new FakeClock();
  const r = await drive(clock, downloadBundle(params(clock, join(dir.path, 'many.part'))));
  assert.is(r.sha256, sha);
});

test('a stalled response is dropped by the watchdog on the clock and retried', async () => {
  server.behaviour.stallAfterBytes = 500_000;
  server.behaviour.stallTimes = 1;
  const clock = new FakeClock();
  const p = params(clock, join(dir.path, 'stall.part'));
  p.tuning = { ...p.tuning, stallTimeoutMs: 30_000 };
  const r = await drive(clock, downloadBundle(p), { stepMs: 1_000, realMs: 5 });
  assert.is(r.sha256, sha);
  // The stalled one, then the resume (more only if this busy machine paused long enough on the fake clock).
  assert.ok(server.requests.length >= 2);
  assert.match(server.requests[1]!.range ?? '', /^bytes=[1-9]\d*-$/);
});

test('a target smaller than what the server sends is refused as size-mismatch, and the file never grows past it', async () => {
  const clock = new FakeClock();
  const file = join(dir.path, 'small.part');
  const err = await drive(clock, downloadBundle({ ...params(clock, file), size: 1_000_000 })).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof DownloadFailure && err.code === 'size-mismatch', String(err));
  assert.ok((await stat(file)).size <= 1_000_000);
});

test('resume after a crash: the torn tail past the last checkpoint is cut off before resuming', async () => {
  const clock = new FakeClock();
  const file = join(dir.path, 'crash.part');
  const data = await readFile(src);
  // 1 MiB durable, then 300 KiB of garbage a power cut left behind.
  await writeFile(file, data.subarray(0, 1 << 20));
  await appendFile(file, Buffer.alloc(300_000, 0xee));
  const r = await drive(clock, downloadBundle({ ...params(clock, file), startFrom: 1 << 20 }));
  assert.is(r.sha256, sha);
  assert.is(server.requests[0]!.range, `bytes=${1 << 20}-`);
});

test('every checkpoint reported is on disk: the file holds at least that many bytes of the bundle when it is reported', async () => {
  server.behaviour.cutAfterBytes = 900_000;
  server.behaviour.cutTimes = 2;
  const clock = new FakeClock();
  const file = join(dir.path, 'ckpt.part');
  const data = await readFile(src);
  const bad: string[] = [];
  const checkpoints: number[] = [];
  const r = await drive(
    clock,
    downloadBundle(
      params(clock, file, {
        onCheckpoint: async (n) => {
          checkpoints.push(n);
          const now = await readFile(file);
          if (now.length < n || !now.subarray(0, n).equals(data.subarray(0, n))) bad.push(`checkpoint ${n}: file has ${now.length} bytes`);
        },
      }),
    ),
  );
  assert.is(r.sha256, sha);
  assert.equal(bad, []);
  assert.ok(checkpoints.length >= 5);
});

test('an abort mid-pipeline leaves a consistent file: the last checkpoint is good on disk, and a resume from it hashes right', async () => {
  server.behaviour.rateBytesPerSec = 3_000_000;
  const clock = new FakeClock();
  const file = join(dir.path, 'abort-mid.part');
  const ac = new AbortController();
  const checkpoints: number[] = [];
  const err = await downloadBundle({
    ...params(clock, file),
    signal: ac.signal,
    onCheckpoint: async (n) => void checkpoints.push(n),
    onProgress: (n) => (n > 1_700_000 ? ac.abort() : undefined),
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error && err.name === 'AbortedError', String(err));
  const last = checkpoints.at(-1) ?? 0;
  assert.ok(last >= 512 * 1024, `a checkpoint before the abort (${checkpoints.join(',')})`);
  const data = await readFile(src);
  const onDisk = await readFile(file);
  assert.ok(onDisk.length >= last && onDisk.subarray(0, last).equals(data.subarray(0, last)), 'the durable prefix is the bundle');
  delete server.behaviour.rateBytesPerSec;
  server.requests.length = 0;
  const r = await drive(clock, downloadBundle({ ...params(clock, file), startFrom: last }));
  assert.is(r.sha256, sha);
  assert.is(server.requests[0]!.range, `bytes=${last}-`);
});

test('a resume from an unaligned length re-reads that part once and hashes the whole file right', async () => {
  const clock = new FakeClock();
  const file = join(dir.path, 'unaligned.part');
  const data = await readFile(src);
  const at = 1_000_003;
  await writeFile(file, data.subarray(0, at));
  const r = await drive(clock, downloadBundle({ ...params(clock, file), startFrom: at }));
  assert.is(r.sha256, sha);
  assert.is(server.requests.length, 1);
  assert.is(server.requests[0]!.range, `bytes=${at}-`);
});

test('a server that ignores Range on a resume: the part on disk is dropped and the file starts over, persisted length back to 0 first', async () => {
  server.behaviour.ignoreRange = true;
  const clock = new FakeClock();
  const file = join(dir.path, 'resume-norange.part');
  const data = await readFile(src);
  await writeFile(file, data.subarray(0, 2_000_000));
  const checkpoints: number[] = [];
  const r = await drive(clock, downloadBundle({ ...params(clock, file), startFrom: 2_000_000, onCheckpoint: async (n) => void checkpoints.push(n) }));
  assert.is(r.sha256, sha);
  assert.is(checkpoints[0], 0, `checkpoints: ${checkpoints.join(',')}`);
  assert.ok((await readFile(file)).equals(data));
});

test('a chunked response (no Content-Length) downloads and hashes right', async () => {
  server.behaviour.chunked = true;
  server.behaviour.cutAfterBytes = 1_500_000;
  server.behaviour.cutTimes = 1;
  const clock = new FakeClock();
  const r = await drive(clock, downloadBundle(params(clock, join(dir.path, 'chunked.part'))));
  assert.is(r.sha256, sha);
  assert.is(server.requests.length, 2);
});

test('an abort ends the download at once', async () => {
  server.behaviour.rateBytesPerSec = 200_000;
  const clock = new FakeClock();
  const ac = new AbortController();
  const p = downloadBundle({ ...params(clock, join(dir.path, 'abort.part')), signal: ac.signal, onProgress: (n) => (n > 100_000 ? ac.abort() : undefined) });
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error && err.name === 'AbortedError', String(err));
});

test.run();
