/**
 * Uplinks (issue 6): the cloud SBC over HSCN and backup SIP trunks, their
 * health and the failover between them. docs/UPLINKS.md tells the story.
 */
export { UplinkManager, type UplinkEvents, type UplinkManagerOptions, type UplinkState, type UplinkStateChange, type UplinkView, type UplinkDetail, type InterfaceRole } from './uplink-manager.js';
export { FailoverMachine, MODE_TRANSITIONS, modeFor, type GatewayMode, type ModeChange, type ModeReason } from './failover.js';
export { FailoverTest, parseFailoverTestParams, SIMULATION_MAX_SECONDS, type FailoverTestParams, type FailoverTestResult, type FailoverTestUplink } from './failover-test.js';
export { UplinkHealth, HEALTH_TRANSITIONS, type HealthState, type HealthChange, type HealthReason } from './uplink-health.js';
export { SysfsLinkWatcher, AlwaysUpLink, linkStateOf, type LinkState, type LinkStateSource } from './link-watcher.js';
export { interfaceToward } from './route-interface.js';
export { systemPeerDns, resolvePeer, type PeerDns, type ResolvedPeer } from './peer-address.js';
export { toE164, canonicalDid, formatForUplink, stripOutsideLinePrefix, type NumberFormat, type DialPlanRules } from './uk-numbers.js';
export { CLOUD_UPLINK_NAME, FAILBACK_REGISTRATION_WAIT_MS } from './cloud-uplink.js';
export { UplinkTls, schemeFor, type ClientTlsPort, type ReadFile } from './uplink-tls.js';
