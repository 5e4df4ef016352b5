/**
 * The SIP message layer's public API (see ARCHITECTURE.md: sip/message).
 */
export type { SipMessage, SipRequest, SipResponse, SipUri, NameAddr, Via, CSeq, Params } from './types.js';
export { Headers, canonicalHeaderName } from './headers.js';
export type { HeaderField } from './headers.js';

export { parseMessage, parseMaxForwards, MAX_DATAGRAM_SIZE } from './parse.js';
export type { ParseResult, ParseFailure, PartialMessage } from './parse.js';
export { serializeMessage } from './serialize.js';

export { parseUri, formatUri, uriEquals, uriScheme, isAbsoluteUri } from './uri.js';
export { parseNameAddr, formatNameAddr, splitNameAddr, nameAddrTag } from './name-addr.js';
export type { NameAddrParts } from './name-addr.js';
export {
  parseVia,
  formatVia,
  getVias,
  topVia,
  viaBranch,
  viaReceived,
  viaRport,
  isRfc3261Branch,
  MAGIC_COOKIE,
} from './via.js';
export { parseCSeq, formatCSeq, MAX_CSEQ } from './cseq.js';
export { splitHeaderValues } from './header-values.js';
export { parseHeaderParams, formatHeaderParams } from './header-params.js';
export { quote, unquote, isToken } from './chars.js';
export { unescapePercent, escapePercent } from './escape.js';
export { KNOWN_METHODS, isKnownMethod } from './methods.js';

export { createResponse, reasonPhrase, generateTag, generateBranch, generateCallId } from './build.js';
export type { CreateResponseOptions } from './build.js';
export {
  validateRequest,
  validateResponse,
  acceptsContentType,
  maxForwards,
  mediaType,
} from './validate.js';
export type { RequestProblem, ValidateRequestOptions } from './validate.js';
