/** The media relay (anchor): legs, bridging, latching, renumbering, dead-media detection, counters. */
export { MediaRelay, DEFAULT_DEAD_AFTER_MS, DEFAULT_RELATCH_AFTER_MS } from './media-relay.js';
export type { MediaRelayOptions, MediaBridge } from './media-relay.js';
export type { MediaAnchor, RelayLeg, OpenLegOptions, MediaRelayEvents, LegState, DeadMediaEvent, LatchEvent } from './relay-api.js';
export { MediaLeg } from './media-leg.js';
export type { MediaLegEvents } from './media-leg.js';
export type { LegSdp, LegFlow } from './leg-config.js';
export { legConfigFromSdp } from './leg-config.js';
export type { LegStats } from './leg-stats.js';
export { StreamRenumberer } from './stream-renumberer.js';
export { Latch } from './latch.js';
export type { LatchResult } from './latch.js';
