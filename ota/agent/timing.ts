/**
 * Waiting on the injected clock (ARCHITECTURE.md convention 3): sleeps and
 * deadlines that tests drive with FakeClock, all cancellable by an
 * AbortSignal so a new target or stop() ends any wait at once.
 */
import type { Clock } from '../../firmware/src/util/clock.js';

export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortedError';
  }
}

export function isAborted(e: unknown): boolean {
  return e instanceof AbortedError || (e instanceof Error && e.name === 'AbortError');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}

export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const onAbort = (): void => {
      timer.cancel();
      reject(new AbortedError());
    };
    const timer = clock.setTimer(Math.max(0, ms), () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `p`, or a rejection with `onTimeout()` after ms on the clock. */
export function withTimeout<T>(clock: Clock, p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(ms, () => reject(onTimeout()));
    p.then(
      (v) => {
        timer.cancel();
        resolve(v);
      },
      (e: unknown) => {
        timer.cancel();
        reject(e);
      },
    );
  });
}

/** Capped exponential backoff with equal jitter: attempt 0 waits ~min, each after doubles, up to max. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
