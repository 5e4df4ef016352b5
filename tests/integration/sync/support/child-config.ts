/** What sync-child.ts is told (env PGW_SYNC_CHILD) and where it writes; shared with the tests without running the child. */
import type { LogLevel } from '../../../../firmware/src/util/logger.js';

export interface ChildConfig {
  url: string;
  deviceId: string;
  dataDir: string;
  stepDelayMs?: number;
  cdrCount?: number;
  cdrPrefix?: string;
  logLevel?: LogLevel;
}

/** What the applier did, one JSON object per line, in DATA/applier.log. */
export const APPLIER_LOG = 'applier.log';
