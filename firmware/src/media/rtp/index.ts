/** RTP/RTCP wire formats and RFC 4733 telephone-event payloads. */
export type { RtpHeader, ParsedRtp } from './rtp-header.js';
export {
  RTP_VERSION,
  RTP_FIXED_HEADER,
  rtpPayloadOffset,
  parseRtp,
  rtpHeaderLength,
  writeRtpHeader,
  buildRtp,
  rtpPayloadType,
  setRtpPayloadType,
  rtpMarker,
  setRtpMarker,
  rtpSequence,
  setRtpSequence,
  rtpTimestamp,
  setRtpTimestamp,
  rtpSsrc,
  setRtpSsrc,
  seqDelta,
  tsDelta,
} from './rtp-header.js';
export type { PacketKind, RtcpPacketInfo, RtcpRewrite } from './rtcp.js';
export {
  RTCP_SR,
  RTCP_RR,
  RTCP_SDES,
  RTCP_BYE,
  RTCP_APP,
  RTCP_RTPFB,
  RTCP_PSFB,
  isRtcpPacketType,
  classifyPacket,
  isValidRtcpCompound,
  listRtcpPackets,
  rewriteRtcpSsrcs,
} from './rtcp.js';
export type { TelephoneEvent } from './telephone-event.js';
export { TELEPHONE_EVENT_LENGTH, eventToDigit, digitToEvent, parseTelephoneEvent, writeTelephoneEvent } from './telephone-event.js';
export type { RtpPortPair, RtpPortPoolOptions } from './port-pool.js';
export { RtpPortPool } from './port-pool.js';
