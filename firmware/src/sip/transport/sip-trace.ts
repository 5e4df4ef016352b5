/**
 * SIP traces (issue 2: "SIP traces available at debug level"): the full
 * message text, its direction and the remote end. The text is only built
 * when debug is on, so traces cost nothing in production.
 */
import type { Logger } from '../../util/logger.js';
import type { Endpoint } from './api.js';

export function endpointText(e: Endpoint): string {
  return e.address.includes(':') ? `${e.protocol}:[${e.address}]:${e.port}` : `${e.protocol}:${e.address}:${e.port}`;
}

export function traceSip(logger: Logger, direction: 'recv' | 'send', remote: Endpoint, local: Endpoint | undefined, data: Buffer): void {
  if (!logger.isLevelEnabled('debug')) return;
  logger.debug(
    {
      direction,
      remote: endpointText(remote),
      ...(local ? { local: endpointText(local) } : {}),
      bytes: data.length,
      // latin1 keeps every byte visible even when a body is not UTF-8.
      text: data.toString('latin1'),
    },
    direction === 'recv' ? 'sip recv' : 'sip send',
  );
}
