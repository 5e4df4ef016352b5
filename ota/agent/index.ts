/**
 * The update agent's public surface, for the composition root (gateway.ts):
 *
 *   const agent = new OtaAgent({
 *     dataDir, deviceId: device.id, boardName: device.board, runningVersion: VERSION,
 *     slots: createSlotBackend(boardProfile.slots), board: linuxBoardPort(),
 *     calls: <CallGuard over the PBX>, health: combineHealth([...]),
 *     link: connectionOtaLink(cloudConnection, device.id), trustedKeys: await loadTrustedKeys(['/etc/pgw/ota-keys']),
 *     clock, logger, siteTimezone: practice.site.timezone,
 *   });
 *   await agent.start();   // early: the trial loop guard counts starts
 *   ...
 *   await agent.stop();
 */
import { linuxBootId, linuxReboot } from '../../hw/slots/linux-reboot.js';
import type { OtaBoardPort } from './ports.js';

export { OtaAgent, DEFAULT_TUNING } from './agent.js';
export type { OtaAgentOptions, OtaTuning } from './agent.js';
export type { CallGuard, FreeSpaceFn, HealthCheck, HealthCheckItem, HealthReport, OtaBoardPort, OtaLink } from './ports.js';
export { connectionOtaLink, mqttJsOtaLink } from './mqtt-link.js';
export type { MqttConnectionLike } from './mqtt-link.js';
export { adminStatusProbe, combineHealth, sipOptionsProbe } from './health-probes.js';
export type { HealthProbe } from './health-probes.js';
export { statfsFreeBytes } from './free-space.js';
export { OTA_STATES, OTA_EVENTS, OTA_TRANSITIONS, transition } from './states.js';
export type { OtaState, OtaEvent } from './states.js';
export type { OtaRecord, OtaReason } from './record.js';
export { loadTrustedKeys } from '../bundle/keys.js';
export type { OtaDesired } from '../protocol/desired.js';
export type { OtaReported } from '../protocol/reported.js';
export { otaTopics } from '../protocol/topics.js';

/** The board port of a real Linux box: boot id from the kernel, reboot through systemd. */
export function linuxBoardPort(): OtaBoardPort {
  return { bootId: () => linuxBootId(), reboot: ({ arg }) => linuxReboot(arg) };
}
