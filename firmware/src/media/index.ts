/**
 * The media engine, for the PBX layer. It knows nothing of SIP dialogs or
 * hunt groups: the PBX gives it addresses and SDP, and it anchors the media.
 *
 * Typical two-party call (A calls B, the gateway in the middle):
 *
 *   const relay = new MediaRelay({ clock, logger, pool: new RtpPortPool({ min, max }) });
 *   const { a, b } = await relay.createBridge({ a: { localAddress: ipFacingA }, b: { localAddress: ipFacingB } });
 *   const toB = relayOffer({ from: offerA, localAddress: ipFacingB, localPort: b.rtpPort, originator: origB, supported });
 *   // ... INVITE B with serializeSdp(toB.offer); B answers with answerB ...
 *   const readB = readAnswer({ offer: toB.offer, answer: answerB });
 *   b.setSdp({ local: toB.offer, remote: answerB });
 *   const toA = negotiateAnswer({ offer: offerA, supported: [readB.codec.name, 'PCMA', 'PCMU', 'G722'],
 *     localAddress: ipFacingA, localPort: a.rtpPort, direction: readB.direction, originator: origA });
 *   a.setSdp({ local: toA.answer, remote: offerA });
 *   relay.on('dead', ({ leg, silentMs }) => hangUpCallOf(leg));
 *   relay.stats();  // counters per leg for the admin API
 */
export * from './sdp/index.js';
export * from './rtp/index.js';
export * from './codec/index.js';
export * from './relay/index.js';
export * from './port/index.js';
