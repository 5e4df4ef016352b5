/**
 * The server transport's Via stamp on inbound requests: RFC 3261 §18.2.1 and
 * RFC 3581 §4.
 *
 * - `received` is added when the top Via's sent-by host differs from the
 *   packet's source address (§18.2.1);
 * - an empty `rport` is filled with the source port, and then `received` is
 *   added even when the host matches (RFC 3581 §4), so that the response can
 *   go back through the NAT binding the request came through.
 */
import { formatVia, parseVia, splitHeaderValues } from '../message/index.js';
import type { SipMessage, Via } from '../message/types.js';
import type { Endpoint } from './api.js';
import { sameAddress } from './local-address.js';

/** The parsed top Via of a message, or undefined when it is missing or malformed. */
export function readTopVia(message: SipMessage): Via | undefined {
  const first = message.headers.get('Via');
  if (first === undefined) return undefined;
  const value = splitHeaderValues(first)[0];
  if (value === undefined) return undefined;
  try {
    return parseVia(value) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replace the top Via value in place, keeping its line's position and any
 * further values on the same line (`Via: a, b`).
 */
export function writeTopVia(message: SipMessage, via: Via): void {
  for (const field of message.headers.entries()) {
    if (field.name !== 'Via') continue;
    const values = splitHeaderValues(field.value);
    values[0] = formatVia(via);
    // HeaderField values are plain data; editing the first Via where it stands
    // keeps header order, which Headers.set() would not.
    (field as { value: string }).value = values.join(', ');
    return;
  }
  message.headers.prepend('Via', formatVia(via));
}

/** Stamp received/rport on the top Via of an inbound request. Returns the stamped Via. */
export function stampReceived(message: SipMessage, via: Via, source: Endpoint): Via {
  const params = new Map(via.params);
  let changed = false;
  const wantsRport = params.has('rport') && (params.get('rport') === null || params.get('rport') === '');
  if (wantsRport) {
    params.set('rport', String(source.port));
    changed = true;
  }
  if (wantsRport || !sameAddress(via.host, source.address)) {
    if (params.get('received') !== source.address) {
      params.set('received', source.address);
      changed = true;
    }
  }
  if (!changed) return via;
  const stamped: Via = { ...via, params };
  writeTopVia(message, stamped);
  return stamped;
}
