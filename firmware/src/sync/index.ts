/** The sync layer's public surface: the service, the interfaces the gateway implements, the payload types. */
export { createCloudSync, WILL_PAYLOAD, CDR_OUTBOX_FILE } from './cloud-sync.js';
export type { CloudSync, CloudSyncOptions } from './cloud-sync.js';
export * from './ports.js';
export type * from './payloads.js';
export { lastKnownGoodFromPracticeStore } from './last-known-good.js';
export { SystemTelemetry } from './system-telemetry.js';
export type { SystemTelemetryOptions } from './system-telemetry.js';
export { deviceTopics, fleetFilter, deviceIdOfTopic, TOPIC_ROOT } from './topics.js';
export type { DeviceTopics } from './topics.js';
export { diffPractice, summariseDiff } from './practice-diff.js';
export type { PracticeDiff, KeyedChanges } from './practice-diff.js';
export { ConfigReconciler } from './reconciler.js';
export { Outbox } from './outbox.js';
export { MqttConnection } from './mqtt-connection.js';
export type { ConnectionState, ConnectionStats } from './mqtt-connection.js';
