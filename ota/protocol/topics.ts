/**
 * The OTA topics of a box (CONTRACT.md "MQTT"): `ota/desired` (retained,
 * cloud → box) and `ota/reported` (retained, box → cloud), under the same
 * `pgw/v1/{deviceId}/` prefix as the rest of the device's tree.
 */
export const OTA_TOPIC_ROOT = 'pgw/v1';

export interface OtaTopics {
  desired: string;
  reported: string;
}

export function otaTopics(deviceId: string): OtaTopics {
  return { desired: `${OTA_TOPIC_ROOT}/${deviceId}/ota/desired`, reported: `${OTA_TOPIC_ROOT}/${deviceId}/ota/reported` };
}

/** Every box's reported OTA state, for fleet tools. */
export const FLEET_REPORTED_FILTER = `${OTA_TOPIC_ROOT}/+/ota/reported`;
/** Every box's retained status, to discover boxes. */
export const FLEET_STATUS_FILTER = `${OTA_TOPIC_ROOT}/+/status`;

export function deviceIdOf(topic: string): string | undefined {
  const parts = topic.split('/');
  if (parts.length < 3 || `${parts[0]}/${parts[1]}` !== OTA_TOPIC_ROOT) return undefined;
  return parts[2] || undefined;
}
