/** Rules of the device part that span fields. */
import type { ConfigProblem } from './problems.js';
import type { Device } from './device-schema.js';

export function checkDevice(d: Device, prefix = 'device'): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const mqtt = d.cloud?.mqtt;
  if (mqtt) {
    if ((mqtt.cert === undefined) !== (mqtt.key === undefined))
      problems.push({ path: `${prefix}.cloud.mqtt`, message: 'cert and key go together' });
    if (mqtt.password !== undefined && mqtt.username === undefined)
      problems.push({ path: `${prefix}.cloud.mqtt.username`, message: 'required with password' });
    if (mqtt.reconnect.minMs > mqtt.reconnect.maxMs)
      problems.push({ path: `${prefix}.cloud.mqtt.reconnect.minMs`, message: `must not exceed maxMs (${mqtt.reconnect.maxMs})` });
  }
  const ota = d.ota;
  if (ota && ota.trialTimeoutSeconds <= ota.soakSeconds)
    problems.push({ path: `${prefix}.ota.trialTimeoutSeconds`, message: `must exceed soakSeconds (${ota.soakSeconds})` });
  if (ota && ota.board === 'simulated' && ota.slots === 'board')
    problems.push({ path: `${prefix}.ota.slots`, message: 'the simulated board needs file slots: file-image or file-dir' });
  const probe = d.modem?.dataProbe;
  if (probe && probe.timeoutSeconds >= probe.intervalSeconds)
    problems.push({ path: `${prefix}.modem.dataProbe.timeoutSeconds`, message: `must be less than intervalSeconds (${probe.intervalSeconds})` });
  return problems;
}
