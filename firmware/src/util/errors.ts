/**
 * Typed errors with stable codes (ARCHITECTURE.md, convention 5). Every code
 * is listed in docs/ERRORS.md; add the code there in the same commit.
 */
export const ERROR_CODES = {
  PGW_E_CONFIG_INVALID: 'a gateway file or practice document failed validation',
  PGW_E_CONFIG_READ: 'a config file could not be read or is not JSON',
  PGW_E_STORE: 'the persistent store could not be read or written',
  PGW_E_STORE_SCHEMA: 'the store was written by a newer schema than this firmware knows',
  PGW_E_SIP_PARSE: 'a SIP message could not be parsed',
  PGW_E_SIP_TRANSPORT: 'a SIP transport failed to send or bind',
  PGW_E_SIP_TIMEOUT: 'a SIP transaction timed out',
  PGW_E_SIP_STATE: 'an operation is not legal in the current protocol state',
  PGW_E_SDP_PARSE: 'an SDP body could not be parsed',
  PGW_E_SDP_NEGOTIATION: 'no common codec or an unacceptable offer/answer',
  PGW_E_MEDIA_PORTS: 'the RTP port pool is exhausted',
  PGW_E_AUTH: 'digest authentication failed',
  PGW_E_STATE_TRANSITION: 'a state machine was asked for an illegal transition',
  PGW_E_USAGE: 'the command line was used wrongly',
  PGW_E_API: 'the local admin API could not be reached or answered an error',
  PGW_E_SYNC_OFFLINE: 'the cloud broker is not connected, or the connection closed before the broker acknowledged',
  PGW_E_SYNC_OUTBOX: 'the persistent call-record outbox could not be read or written',
  PGW_E_ADMIN_LISTEN: 'the local admin API could not listen on its address',
  PGW_E_HW_BOARD: 'device.board names no known board profile',
  PGW_E_HW_IO: 'a hardware device (serial port, watchdog, notify socket) could not be opened, read or written',
  PGW_E_HW_TIMEOUT: 'a hardware device did not answer a command in time',
  PGW_E_HW_PROTOCOL: 'a hardware device answered with an error or with something its driver could not parse',
  PGW_E_OTA_BUNDLE: 'an OTA bundle is malformed, or its manifest is invalid',
  PGW_E_OTA_SIGNATURE: 'an OTA bundle is unsigned, or its signature does not verify with a trusted key',
  PGW_E_OTA_DOWNLOAD: 'an OTA bundle could not be downloaded',
  PGW_E_OTA_SLOT: 'a boot slot could not be read, written or switched',
  PGW_E_OTA_STATE: 'the OTA agent state file is unreadable or was written by a newer schema',
  PGW_E_FACTORY_RESET: 'a factory reset could not erase the data or write the new identity (it is finished at the next start)',
  PGW_E_MEDIA_OFFLOAD: 'the kernel fast path for RTP (nftables) could not be set up or changed; media stays in user space',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PgwError extends Error {
  readonly code: ErrorCode;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PgwError';
    this.code = code;
    this.context = options.context ?? {};
  }

  /** The same error with more context, as it travels up. */
  with(context: Record<string, unknown>): PgwError {
    return new PgwError(this.code, this.message, { cause: this.cause, context: { ...this.context, ...context } });
  }
}

export function isPgwError(e: unknown, code?: ErrorCode): e is PgwError {
  return e instanceof PgwError && (code === undefined || e.code === code);
}
