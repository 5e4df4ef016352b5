/**
 * Boot slots behind one small interface (ARCHITECTURE.md convention 6): the
 * update agent writes the inactive slot, arms it for one trial boot, and
 * commits it (or the old one) as the boot loader's default. Backends:
 * `file` (tests and development), `rpi-tryboot` (Raspberry Pi autoboot.txt
 * and `reboot "0 tryboot"`), `grub` (grubenv).
 *
 * The model, shared by all three (and by Android's A/B boot_control HAL):
 * - `primary` is where the boot loader goes on a normal boot. It changes
 *   only on commit(), so a power cut at any moment before commit boots the
 *   known-good slot.
 * - `armed` is a slot the boot loader tries on the next boot only (a
 *   one-shot flag, or a small counter the boot loader spends). If the
 *   trial boot hangs or the box loses power, the boot after goes back to
 *   `primary` on its own: no software on the new slot has to work for the
 *   rollback to happen.
 * - `trialBoot` says whether the running boot is such a trial, as the boot
 *   loader reports it (device tree, kernel command line, boot env).
 */
import type { Readable, Writable } from 'node:stream';

export const SLOT_NAMES = ['a', 'b'] as const;
export type SlotName = (typeof SLOT_NAMES)[number];

export function isSlotName(s: unknown): s is SlotName {
  return s === 'a' || s === 'b';
}

export function otherSlot(s: SlotName): SlotName {
  return s === 'a' ? 'b' : 'a';
}

/** What a slot can receive: a raw file system image, or a tarball unpacked into a directory. */
export type SlotPayloadFormat = 'raw' | 'tar';

export interface SlotStatus {
  /** The slot running now. */
  booted: SlotName;
  /** The boot loader's default. */
  primary: SlotName;
  /** The slot the next boot will try once, if any. */
  armed: SlotName | null;
  /** The running boot is a trial boot of `booted`. */
  trialBoot: boolean;
}

/** What the board must do to boot the armed slot. */
export interface TrialBoot {
  /** Argument for the reboot system call / `systemctl reboot ARG` (the Pi's "0 tryboot"). */
  rebootArg?: string;
}

export interface SlotBackend {
  readonly kind: 'file' | 'rpi-tryboot' | 'grub';
  /** Payload formats this backend can write. */
  readonly formats: readonly SlotPayloadFormat[];
  status(): Promise<SlotStatus>;
  /** Bytes a slot can hold, or null when unbounded or unknown (a directory). */
  capacity(slot: SlotName): Promise<number | null>;
  /**
   * A stream that writes a payload into `slot`; its end (final) makes the
   * data durable (fsync) before it resolves. Refuses the booted slot.
   */
  openWriter(slot: SlotName, options: { format: SlotPayloadFormat; size: number }): Promise<Writable>;
  /** Reads back `size` bytes of a raw slot, for verification; undefined when the slot is not raw. */
  openReader(slot: SlotName, size: number): Promise<Readable | undefined>;
  /**
   * Completes a written and verified `slot` before it is armed, for
   * backends whose slot is more than the payload (the Pi: its boot
   * partition is rebuilt from the new root's boot tree). Only touches the
   * inactive slot, which nothing boots before arm(); an interrupted call is
   * redone with the whole install. Refuses the booted slot.
   */
  completeInstall?(slot: SlotName): Promise<void>;
  /** Arms `slot` for the next boot only. */
  arm(slot: SlotName): Promise<TrialBoot>;
  /** Clears any armed trial. */
  disarm(): Promise<void>;
  /** Makes `slot` the default and clears any armed trial. */
  commit(slot: SlotName): Promise<void>;
}
