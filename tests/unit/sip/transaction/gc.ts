/**
 * A real garbage collection for tests that check what is let go: global.gc
 * when node runs with --expose-gc, else the same function obtained at run
 * time (V8's flag set from inside the process, read from a fresh context).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

function gcFunction(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const gc = gcFunction();

/** Heap in use after a full collection, bytes. */
export function heapUsedAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Whether the object behind `ref` has been collected. A WeakRef's target is
 * held until the end of the job that made or read it, and pending promise
 * reactions hold what they close over, so this waits for a later turn of the
 * event loop before each collection.
 */
export async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    if (ref.deref() === undefined) return true;
  }
  return false;
}
