/**
 * Exit codes (CONTRACT.md: 0 success, 1 invalid input, 2 usage error,
 * other: failure). The failures are split so scripts can tell "the gateway
 * broke" from "there is no gateway to ask".
 */
export const EXIT = {
  OK: 0,
  INVALID_INPUT: 1,
  USAGE: 2,
  /** The gateway failed to start, crashed, or did not stop within the deadline. */
  FAILURE: 3,
  /** The admin API could not be reached or answered an error. */
  API: 4,
  /** The gateway refused (a factory reset while calls are up or an update is on the slots). */
  REFUSED: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
