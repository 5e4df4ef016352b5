/**
 * What `pgw fleet` touches outside itself, injected so it runs in-process
 * under test. The CLI's CliContext (out, err, env) already fits.
 */
import type { Clock } from '../../util/clock.js';

export interface FleetIo {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Default SystemClock; its timers do not keep the process alive (the MQTT socket does). */
  clock?: Clock;
}

export function processIo(): FleetIo {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    env: process.env,
  };
}
