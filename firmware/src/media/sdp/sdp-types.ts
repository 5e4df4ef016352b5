/**
 * The SDP data model (RFC 4566). It keeps what the gateway reads as typed
 * fields and everything else as raw lines, in order, so that an SDP from a
 * phone survives parse → edit → serialize with its unknown lines and
 * attributes intact (a B2BUA that silently drops a=fmtp or b= lines breaks
 * codecs it never looks at).
 */

/** One `x=value` line that the model does not give a field of its own (i=, u=, e=, p=, b=, t=, r=, z=, k=, unknown). */
export interface SdpLine {
  type: string;
  value: string;
}

/** `a=name` (property attribute, value null) or `a=name:value` (RFC 4566 §5.13). */
export interface SdpAttribute {
  name: string;
  value: string | null;
}

/** `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 4566 §5.2). */
export interface SdpOrigin {
  username: string;
  /** Kept as text: numeric but may exceed 2^53 (NTP-format ids are common). */
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** `c=<nettype> <addrtype> <connection-address>` (RFC 4566 §5.7); address may carry /ttl for multicast. */
export interface SdpConnection {
  netType: string;
  addrType: string;
  address: string;
}

/** `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` and the lines under it (RFC 4566 §5.14). */
export interface SdpMedia {
  type: string;
  port: number;
  portCount: number | null;
  proto: string;
  /** Payload type numbers (as text, as they appear) for RTP profiles. */
  formats: string[];
  connection: SdpConnection | null;
  /** Media-level lines other than m=, c= and a=, in their original order. */
  lines: SdpLine[];
  attributes: SdpAttribute[];
}

export interface Sdp {
  /** v= (always 0 today). */
  version: number;
  origin: SdpOrigin;
  sessionName: string;
  connection: SdpConnection | null;
  /** Session-level lines other than v=, o=, s=, c= and a=, in their original order (t= lives here). */
  lines: SdpLine[];
  attributes: SdpAttribute[];
  media: SdpMedia[];
}

/** Media direction (RFC 3264 §5.1, §6.1), from the point of view of the side that wrote the SDP. */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

export function isDirection(s: string): s is Direction {
  return (DIRECTIONS as readonly string[]).includes(s);
}
