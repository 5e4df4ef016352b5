/**
 * The `rpi-tryboot` slot backend (Raspberry Pi 4/5 EEPROM boot loader).
 *
 * Layout (image/ builds it): partition 1 is a small FAT partition holding
 * only autoboot.txt (and an empty config.txt, which some boot loaders want
 * to see); each slot has its own FAT boot partition (kernel, config.txt,
 * cmdline.txt naming its root) and root file system device.
 *
 * - Arm: `[tryboot] boot_partition` = the new slot's boot partition, then
 *   the board reboots with the argument "0 tryboot". The tryboot flag is
 *   one-shot and lives in the boot loader, not in a file: a trial boot
 *   that hangs, panics or loses power is followed by a normal boot of
 *   `[all] boot_partition`, whatever the new slot does.
 * - Commit: `[all] boot_partition` = the slot.
 * - What booted: the boot loader reports it in the device tree,
 *   /proc/device-tree/chosen/bootloader/partition and .../tryboot, each a
 *   32-bit big-endian cell.
 * - Complete install (after the root is written and verified, before arm):
 *   the slot's boot partition is rebuilt from the boot tree inside the new
 *   root (boot-tree.ts), so a new kernel, initramfs or DTB boots with the
 *   root it belongs to.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { writeFileAtomic } from '../../firmware/src/store/atomic-file.js';
import { PgwError } from '../../firmware/src/util/errors.js';
import { parseAutoboot, serializeAutoboot } from './autoboot-txt.js';
import type { AutobootConfig } from './autoboot-txt.js';
import { installBootTree } from './boot-tree.js';
import { linuxMounter } from './mounter.js';
import type { Mounted, Mounter } from './mounter.js';
import { openRawReader, openRawSlotWriter, rawDeviceCapacity } from './slot-io.js';
import { SLOT_NAMES } from './types.js';
import type { SlotBackend, SlotName, SlotPayloadFormat, SlotStatus, TrialBoot } from './types.js';

export interface RpiSlot {
  /** The slot's FAT boot partition number (autoboot.txt boot_partition). */
  bootPartition: number;
  /** The slot's root file system device (or image file in tests). */
  rootDevice: string;
  /** The slot's boot partition device; default /dev/disk/by-partlabel/boot-<slot> (image/boards/rpi*-poe/genimage.cfg). */
  bootDevice?: string;
}

export interface RpiTrybootOptions {
  /** Where partition 1 (with autoboot.txt) is mounted. */
  autobootDir: string;
  /** Default /proc/device-tree/chosen/bootloader. */
  deviceTreeDir?: string;
  /** Where block device sizes are read (default /sys/class/block). */
  sysBlockDir?: string;
  slots: Record<SlotName, RpiSlot>;
  /** Mounts the new root and the boot partition for completeInstall(); default mount(8). */
  mounter?: Mounter;
  /** How completeInstall() copies a boot file (default fs copyFile); tests inject failures. */
  bootCopyFile?: (src: string, dst: string) => Promise<void>;
  /** Progress of completeInstall(), for the log. */
  onBootInstalled?: (info: { slot: SlotName; files: number; bytes: number }) => void;
}

export const RPI_TRYBOOT_REBOOT_ARG = '0 tryboot';

function slotErr(message: string): PgwError {
  return new PgwError('PGW_E_OTA_SLOT', message);
}

async function readCell(path: string): Promise<number> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw slotErr(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (buf.length < 4) throw slotErr(`${path} is not a 32-bit device tree cell`);
  return buf.readUInt32BE(0);
}

export class RpiTrybootBackend implements SlotBackend {
  readonly kind = 'rpi-tryboot' as const;
  readonly formats: readonly SlotPayloadFormat[] = ['raw'];
  private readonly dt: string;

  constructor(private readonly options: RpiTrybootOptions) {
    this.dt = options.deviceTreeDir ?? '/proc/device-tree/chosen/bootloader';
    if (options.slots.a.bootPartition === options.slots.b.bootPartition) throw slotErr('slots a and b need different boot partitions');
  }

  private get autobootPath(): string {
    return join(this.options.autobootDir, 'autoboot.txt');
  }

  private slotOfPartition(p: number): SlotName {
    const s = SLOT_NAMES.find((n) => this.options.slots[n].bootPartition === p);
    if (!s) throw slotErr(`boot partition ${p} is neither slot a nor slot b`);
    return s;
  }

  private async readAutoboot(): Promise<AutobootConfig> {
    let text: string;
    try {
      text = await readFile(this.autobootPath, 'utf8');
    } catch (e) {
      throw slotErr(`cannot read ${this.autobootPath}: ${(e as Error).message}`);
    }
    return parseAutoboot(text);
  }

  private async writeAutoboot(c: AutobootConfig): Promise<void> {
    await writeFileAtomic(this.autobootPath, serializeAutoboot(c), { mode: 0o644 });
  }

  async status(): Promise<SlotStatus> {
    const cfg = await this.readAutoboot();
    const bootedPartition = await readCell(join(this.dt, 'partition'));
    let tryboot = 0;
    try {
      tryboot = await readCell(join(this.dt, 'tryboot'));
    } catch {
      tryboot = 0; // older boot loaders do not publish it: not a trial boot
    }
    const primary = this.slotOfPartition(cfg.bootPartition);
    return {
      booted: this.slotOfPartition(bootedPartition),
      primary,
      armed: cfg.trybootPartition === cfg.bootPartition ? null : this.slotOfPartition(cfg.trybootPartition),
      trialBoot: tryboot !== 0,
    };
  }

  async capacity(slot: SlotName): Promise<number | null> {
    return rawDeviceCapacity(this.options.slots[slot].rootDevice, this.options.sysBlockDir);
  }

  async openWriter(slot: SlotName, options: { format: SlotPayloadFormat; size: number }): Promise<Writable> {
    const { booted } = await this.status();
    return openRawSlotWriter({ backend: 'rpi-tryboot', slot, booted, device: this.options.slots[slot].rootDevice, ...options, sysBlockDir: this.options.sysBlockDir });
  }

  async openReader(slot: SlotName, size: number): Promise<Readable | undefined> {
    return openRawReader(this.options.slots[slot].rootDevice, size);
  }

  bootDevice(slot: SlotName): string {
    return this.options.slots[slot].bootDevice ?? `/dev/disk/by-partlabel/boot-${slot}`;
  }

  async completeInstall(slot: SlotName): Promise<void> {
    const { booted } = await this.status();
    if (slot === booted) throw slotErr(`refusing to rewrite the boot partition of the running slot ${slot}`);
    const mounter = this.options.mounter ?? linuxMounter();
    const root = await mounter.mount({ device: this.options.slots[slot].rootDevice, fsType: 'ext4', readOnly: true });
    let boot: Mounted | undefined;
    let failure: unknown;
    try {
      boot = await mounter.mount({ device: this.bootDevice(slot), fsType: 'vfat', readOnly: false });
      const r = await installBootTree(root.path, boot.path, slot, { copyFile: this.options.bootCopyFile });
      this.options.onBootInstalled?.({ slot, files: r.files.length, bytes: r.bytes });
    } catch (e) {
      failure = e;
    }
    // Both unmounts run whatever happened; the first error is the one reported.
    for (const m of [boot, root]) {
      if (!m) continue;
      try {
        await m.unmount();
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== undefined) {
      if (failure instanceof PgwError) throw failure;
      throw slotErr(`slot ${slot}: cannot rebuild its boot partition: ${(failure as Error).message}`);
    }
  }

  async arm(slot: SlotName): Promise<TrialBoot> {
    const cfg = await this.readAutoboot();
    await this.writeAutoboot({ bootPartition: cfg.bootPartition, trybootPartition: this.options.slots[slot].bootPartition });
    return { rebootArg: RPI_TRYBOOT_REBOOT_ARG };
  }

  async disarm(): Promise<void> {
    const cfg = await this.readAutoboot();
    if (cfg.trybootPartition === cfg.bootPartition) return;
    await this.writeAutoboot({ bootPartition: cfg.bootPartition, trybootPartition: cfg.bootPartition });
  }

  async commit(slot: SlotName): Promise<void> {
    const p = this.options.slots[slot].bootPartition;
    await this.writeAutoboot({ bootPartition: p, trybootPartition: p });
  }
}
