/**
 * What the OTA commands touch outside themselves, injected so they run
 * in-process under test. Structurally the same as the CLI's FleetIo, plus
 * whether stdout is a terminal (progress bars, redraws).
 */
export interface OtaCliIo {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** stdout is a terminal. */
  isTTY?: boolean;
  /** Terminal width in columns. */
  columns?: number;
  /** Resolves when the user interrupts (Ctrl-C), for --watch. */
  interrupted?: Promise<void>;
}

export function processOtaIo(): OtaCliIo {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    columns: process.stdout.columns,
    interrupted: new Promise<void>((resolve) => process.once('SIGINT', () => resolve())),
  };
}

/** Exit codes (CONTRACT.md): 0 success, 1 invalid input, 2 usage error, 3 failure. */
export const OTA_EXIT = { OK: 0, INVALID: 1, USAGE: 2, FAILURE: 3 } as const;

export class OtaUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OtaUsageError';
  }
}
