/**
 * The request methods defined by RFC 3261 and its extensions (RFC 3262 PRACK,
 * RFC 6665 SUBSCRIBE/NOTIFY, RFC 3903 PUBLISH, RFC 6086 INFO, RFC 3515 REFER,
 * RFC 3428 MESSAGE, RFC 3311 UPDATE). Methods are case-sensitive (§7.1).
 * Any other token is a valid but unknown method (RFC 4475 §3.1.1.2, §3.1.1.5).
 */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'INFO',
  'REFER',
  'MESSAGE',
  'UPDATE',
]);

export function isKnownMethod(method: string): boolean {
  return KNOWN_METHODS.has(method);
}
