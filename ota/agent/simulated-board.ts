/**
 * A board that reboots without rebooting, over the `file` slot backend
 * (hw/slots/file-backend.ts), so the real gateway can go through a whole
 * update on a development machine or in a test (device.ota.board
 * `simulated`):
 *
 *   reboot()   records the request (ROOT/reboot-request.json) and, after a
 *              delay, stops the process as systemd would on a real reboot
 *              (the caller's `stopProcess`, SIGTERM in the gateway);
 *   bootSimulatedBoard()   at the next start, plays the boot loader if a
 *              reboot was requested (simulateBoot: the armed slot once, else
 *              the primary), so the boot id changes only across a "reboot",
 *              never across a plain process restart;
 *   bootId()   the boot loader's boot id (ROOT/booted.json).
 *
 * What runs after the "reboot" is still this process's code, so the version
 * the booted slot stands for is read from the slot itself where the image
 * recipe puts the firmware (image/build.sh: /usr/lib/pgw/app/package.json):
 * a directory slot holding a root tree says which version it is.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../firmware/src/util/clock.js';
import type { Logger } from '../../firmware/src/util/logger.js';
import { writeFileAtomic } from '../../firmware/src/store/atomic-file.js';
import { initFileSlots, readBootEnv, readBootedInfo, simulateBoot } from '../../hw/slots/file-backend.js';
import type { FileBootedInfo, FileSlotLayout } from '../../hw/slots/file-backend.js';
import type { OtaBoardPort } from './ports.js';

export const REBOOT_REQUEST_FILE = 'reboot-request.json';
/** Where the image recipe installs the firmware in a root tree. */
export const FIRMWARE_PACKAGE_IN_ROOTFS = 'usr/lib/pgw/app/package.json';

export interface RebootRequest {
  arg?: string;
  reason: string;
  at: string;
}

/** Creates the slot tree on first use (booted from a), so a fresh data directory works. */
export async function ensureFileSlots(root: string, layout: FileSlotLayout): Promise<void> {
  try {
    await readBootEnv(root);
    await readBootedInfo(root);
  } catch {
    await initFileSlots(root, { layout });
  }
}

/**
 * At start: if the last process asked for a reboot, the boot loader runs
 * now. Returns what booted (and whether this start is such a boot).
 */
export async function bootSimulatedBoard(root: string): Promise<{ booted: FileBootedInfo; rebooted: boolean }> {
  const request = join(root, REBOOT_REQUEST_FILE);
  let asked = false;
  try {
    await readFile(request);
    asked = true;
  } catch {
    asked = false;
  }
  if (!asked) return { booted: await readBootedInfo(root), rebooted: false };
  const booted = await simulateBoot(root);
  // Removed after the boot is recorded: a crash in between boots once more, as a power cut would.
  await rm(request, { force: true });
  return { booted, rebooted: true };
}

export function simulatedBoardPort(options: {
  root: string;
  clock: Clock;
  logger: Logger;
  /** From the request to stopProcess(), like the time a real shutdown takes to reach the gateway. */
  delayMs: number;
  stopProcess: () => void;
}): OtaBoardPort {
  const log = options.logger.child({ component: 'ota-board' });
  return {
    bootId: async () => (await readBootedInfo(options.root)).bootId,
    reboot: async ({ arg, reason }) => {
      const req: RebootRequest = { ...(arg !== undefined ? { arg } : {}), reason, at: new Date(options.clock.now()).toISOString() };
      await writeFileAtomic(join(options.root, REBOOT_REQUEST_FILE), `${JSON.stringify(req)}\n`, { mode: 0o644 });
      log.warn({ ...req, inMs: options.delayMs }, 'simulated reboot requested: stopping the process');
      options.clock.setTimer(options.delayMs, () => options.stopProcess());
    },
  };
}

/** The firmware version a root tree in `slotDir` holds, or null when it holds none. */
export async function rootTreeFirmwareVersion(slotDir: string, packageName: string): Promise<string | null> {
  try {
    const pkg = JSON.parse(await readFile(join(slotDir, FIRMWARE_PACKAGE_IN_ROOTFS), 'utf8')) as { name?: unknown; version?: unknown };
    return pkg.name === packageName && typeof pkg.version === 'string' ? pkg.version : null;
  } catch {
    return null;
  }
}
