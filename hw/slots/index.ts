/**
 * Boot slot backends: pick one from the board profile (issue 5's board
 * profiles name the backend and its devices).
 */
import { FileSlotBackend } from './file-backend.js';
import type { FileSlotOptions } from './file-backend.js';
import { GrubSlotBackend } from './grub.js';
import type { GrubSlotOptions } from './grub.js';
import { RpiTrybootBackend } from './rpi-tryboot.js';
import type { RpiTrybootOptions } from './rpi-tryboot.js';
import type { SlotBackend } from './types.js';

export type SlotBackendConfig =
  | ({ kind: 'file' } & FileSlotOptions)
  | ({ kind: 'rpi-tryboot' } & RpiTrybootOptions)
  | ({ kind: 'grub' } & GrubSlotOptions);

export function createSlotBackend(config: SlotBackendConfig): SlotBackend {
  switch (config.kind) {
    case 'file':
      return new FileSlotBackend(config);
    case 'rpi-tryboot':
      return new RpiTrybootBackend(config);
    case 'grub':
      return new GrubSlotBackend(config);
    default: {
      const never: never = config;
      throw new Error(`unknown slot backend ${(never as { kind: string }).kind}`);
    }
  }
}

export * from './types.js';
export { FileSlotBackend, initFileSlots, simulateBoot, readBootedInfo, readBootEnv, fileSlotPath } from './file-backend.js';
export type { FileSlotOptions, FileSlotLayout, FileBootEnv, FileBootedInfo } from './file-backend.js';
export { RpiTrybootBackend, RPI_TRYBOOT_REBOOT_ARG } from './rpi-tryboot.js';
export type { RpiTrybootOptions, RpiSlot } from './rpi-tryboot.js';
export { GrubSlotBackend, slotFromCmdline } from './grub.js';
export type { GrubSlotOptions } from './grub.js';
export { linuxBootId, linuxReboot } from './linux-reboot.js';
export { installBootTree, BOOT_TREE_DIR, BOOT_TREE_TEMPLATES, SLOT_TOKEN } from './boot-tree.js';
export type { BootTreeResult } from './boot-tree.js';
export { linuxMounter } from './mounter.js';
export type { Mounter, Mounted, MountRequest } from './mounter.js';
