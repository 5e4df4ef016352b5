/**
 * The composition root (ARCHITECTURE.md): builds every service and wires them
 * by constructor injection. Nothing starts as a side effect of an import.
 * Filled in as the layers land; the CLI's `pgw run` calls runGateway().
 */
import type { Logger } from './util/logger.js';

export interface GatewayOptions {
  /** Path of the gateway file (device + optional practice). */
  configFile: string;
  /** Persistent store, recordings and OTA state. */
  dataDir: string;
  logger: Logger;
}

export interface RunningGateway {
  /** Stop accepting new calls, end within 5 s, flush the store (CONTRACT.md, SIGTERM). */
  stop(): Promise<void>;
}

export async function runGateway(_options: GatewayOptions): Promise<RunningGateway> {
  throw new Error('runGateway: not wired yet');
}
