/** The SIP transport layer (RFC 3261 §18, RFC 3581, RFC 5626 keep-alives): public surface. */
export type { ClientTlsSettings, ConnectionInfo, Endpoint, InboundMessage, SendOptions, TransportLayer, TransportProtocol } from './api.js';
export { UDP_SIZE_THRESHOLD, defaultPort } from './api.js';
export { SipTransportLayer, createTransportLayer } from './transport-layer.js';
export type { ListenSpec, TlsSettings, TransportLayerOptions } from './transport-layer.js';
export { StreamFramer, contentLength } from './stream-framer.js';
export type { FramerEvent, StreamFramerOptions } from './stream-framer.js';
export { responseRoute, viaProtocol } from './response-route.js';
export type { ResponseRoute } from './response-route.js';
export { readTopVia, stampReceived, writeTopVia } from './via-stamp.js';
export { LocalAddressResolver, sameAddress, canonicalAddress } from './local-address.js';
export { readListenerTls, type ListenPointTls } from './listener-tls.js';
export { checkSipServerIdentity, sipUriDomains } from './sip-server-identity.js';
