/**
 * Boot identity and reboot on a real Linux box, for the update agent's
 * board port. The boot id (/proc/sys/kernel/random/boot_id) is a fresh
 * random UUID on every boot: the agent compares it with the one it saved
 * before rebooting to tell "the box rebooted" from "only the process
 * restarted", which a slot name alone cannot (the boot loader may have
 * fallen back to the same slot).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { PgwError } from '../../firmware/src/util/errors.js';

export async function linuxBootId(path = '/proc/sys/kernel/random/boot_id'): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

/**
 * Asks systemd to reboot, with an optional argument for the reboot system
 * call (the Pi's "0 tryboot"). systemd stops the gateway first (SIGTERM:
 * CONTRACT.md, stop within 5 s), so the store is flushed.
 */
export function linuxReboot(arg?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = arg === undefined ? ['reboot'] : ['reboot', arg];
    const child = spawn('systemctl', args, { stdio: 'ignore' });
    child.on('error', (e) => reject(new PgwError('PGW_E_OTA_SLOT', `cannot run systemctl reboot: ${e.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new PgwError('PGW_E_OTA_SLOT', `systemctl ${args.join(' ')} exited ${code}`)),
    );
  });
}
