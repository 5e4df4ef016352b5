/**
 * Connection address and port rewriting: every SDP a leg sees carries the
 * gateway's address on the interface that faces that leg and the port of
 * that leg's socket pair, so the media is anchored (issue 2, media).
 */
import { isIP } from 'node:net';
import type { Sdp, SdpConnection, SdpMedia } from './sdp-types.js';
import { effectiveAddress } from './sdp-direction.js';
import { findAttribute } from './sdp-codecs.js';

export function connectionFor(address: string): SdpConnection {
  return { netType: 'IN', addrType: isIP(address) === 6 ? 'IP6' : 'IP4', address };
}

/**
 * Attributes that describe the far end's transport and would be wrong once
 * the gateway is in the path: ICE candidates and credentials (RFC 8839), the
 * far end's RTCP address (RFC 3605, rewritten below), and rtcp-mux, which the
 * relay does not offer (it keeps RTP and RTCP on an even/odd port pair).
 */
const TRANSPORT_ATTRIBUTES = new Set([
  'candidate',
  'remote-candidates',
  'ice-ufrag',
  'ice-pwd',
  'ice-options',
  'ice-lite',
  'ice-mismatch',
  'end-of-candidates',
  'rtcp-mux',
  'rtcp-rsize',
]);

/** Remove ICE and rtcp-mux attributes at session and media level. */
export function stripTransportAttributes(sdp: Sdp): void {
  sdp.attributes = sdp.attributes.filter((a) => !TRANSPORT_ATTRIBUTES.has(a.name.toLowerCase()));
  for (const m of sdp.media) m.attributes = m.attributes.filter((a) => !TRANSPORT_ATTRIBUTES.has(a.name.toLowerCase()));
}

/**
 * Point one media section at (address, port): session-level c= carries the
 * address, a media-level c= is dropped, m= gets the port, and a=rtcp (RFC
 * 3605) is rewritten to port + 1 if present. Other media sections that
 * relied on the session-level c= keep their own address as a media-level c=.
 */
export function setMediaAddress(sdp: Sdp, mediaIndex: number, address: string, port: number): void {
  const target = sdp.media[mediaIndex];
  if (!target) throw new RangeError(`no media section ${mediaIndex}`);
  const old = sdp.connection;
  sdp.media.forEach((m, i) => {
    if (i !== mediaIndex && m.connection === null && old !== null) m.connection = { ...old };
  });
  sdp.connection = connectionFor(address);
  target.connection = null;
  target.port = port;
  target.portCount = null;
  const rtcp = findAttribute(target.attributes, 'rtcp');
  if (rtcp) {
    rtcp.name = 'rtcp';
    rtcp.value = String(port + 1);
  }
}

export interface RemoteEndpoint {
  address: string;
  port: number;
  rtcpAddress: string;
  rtcpPort: number;
}

/**
 * Where to send RTP and RTCP for a media section written by the far end:
 * its connection address and m= port, RTCP to a=rtcp (RFC 3605) or port + 1
 * (RFC 3550 §11). rtcp-mux is never
 * negotiated by the gateway (it strips it), so a=rtcp-mux alone does not move
 * RTCP. Null when the stream is rejected (port 0) or has no address.
 */
export function remoteEndpoint(sdp: Sdp, mediaIndex: number): RemoteEndpoint | null {
  const m: SdpMedia | undefined = sdp.media[mediaIndex];
  if (!m || m.port === 0) return null;
  const address = effectiveAddress(sdp, m);
  if (address === null) return null;
  let rtcpAddress = address;
  let rtcpPort = m.port + 1;
  const rtcp = findAttribute(m.attributes, 'rtcp');
  if (rtcp?.value) {
    const f = rtcp.value.trim().split(/ +/);
    const p = Number(f[0]);
    if (Number.isInteger(p) && p > 0 && p < 65_536) rtcpPort = p;
    if (f.length >= 4 && f[3]) rtcpAddress = f[3];
  }
  return { address, port: m.port, rtcpAddress, rtcpPort };
}
