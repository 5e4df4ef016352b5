/** SDP: model, parser, serializer, codecs, direction and hold mapping, offer/answer. */
export type { Sdp, SdpMedia, SdpAttribute, SdpLine, SdpOrigin, SdpConnection, Direction } from './sdp-types.js';
export { DIRECTIONS, isDirection } from './sdp-types.js';
export { parseSdp, parseAttribute, MAX_SDP_BYTES } from './sdp-parse.js';
export { serializeSdp, cloneSdp } from './sdp-serialize.js';
export type { SdpCodec } from './sdp-codecs.js';
export {
  STATIC_PAYLOAD_TYPES,
  TELEPHONE_EVENT,
  staticPayloadType,
  defaultClockRate,
  codecNameEquals,
  findAttribute,
  fmtpFor,
  getCodecs,
  getAudioCodecs,
  getTelephoneEvent,
  getPtime,
  getMaxPtime,
  setPtime,
  codecAttributes,
  keepPayloadTypes,
} from './sdp-codecs.js';
export type { DirectionBits } from './sdp-direction.js';
export {
  directionBits,
  directionFromBits,
  reverseDirection,
  isNullAddress,
  effectiveAddress,
  getDeclaredDirection,
  getDirection,
  isHold,
  setMediaDirection,
  setDirection,
  answerDirection,
  b2buaOfferDirection,
  b2buaAnswerDirection,
} from './sdp-direction.js';
export type { RemoteEndpoint } from './sdp-connection.js';
export { connectionFor, stripTransportAttributes, setMediaAddress, remoteEndpoint } from './sdp-connection.js';
export { SdpOriginator } from './sdp-origin.js';
export type { NegotiateAnswerOptions, NegotiatedAnswer, BuildOfferOptions, RelayOfferOptions, RelayedOffer, AnswerReading } from './sdp-negotiate.js';
export { DEFAULT_DTMF_PT, findAudioStream, pickCodec, negotiateAnswer, buildOffer, relayOffer, readAnswer } from './sdp-negotiate.js';
