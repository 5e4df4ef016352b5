/** The config layer's public surface: schemas, types, validation, loading, redaction. */
export * from './practice-schema.js';
export * from './device-schema.js';
export * from './gateway-file-schema.js';
export * from './validate.js';
export * from './load.js';
export * from './redact.js';
export * from './problems.js';
export * from './host-port.js';
export * from './sip-uri.js';
export { checkPractice, REQUIRED_EMERGENCY_NUMBERS, CLOUD_UPLINK_NAME } from './practice-checks.js';
export { checkDevice } from './device-checks.js';
export { E164_PATTERN } from './primitives.js';
