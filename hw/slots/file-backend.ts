/**
 * The `file` slot backend, for tests and development: slots are
 * directories (tar payloads) or image files (raw payloads) under `root`,
 * and two small JSON files stand in for the boot loader:
 *
 *   root/slots/a, root/slots/b        (layout `dir`)
 *   root/slots/a.img, root/slots/b.img (layout `image`)
 *   root/bootenv.json   what the OS tells the boot loader: { primary, armed, tries }
 *                       (the boot loader spends `tries` on trial boots, like
 *                       U-Boot's bootcount or Android's retry counter)
 *   root/booted.json    what the boot loader tells the OS: { slot, trialBoot, bootId, bootSeq }
 *                       (like /proc/cmdline or the Pi's device tree)
 *
 * simulateBoot() is the boot loader: tests call it where a real box would
 * reboot (or lose power), then start the agent again.
 */
import { readFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { writeFileAtomic } from '../../firmware/src/store/atomic-file.js';
import { PgwError } from '../../firmware/src/util/errors.js';
import { openRawReader, openRawWriter, openTarWriter } from './slot-io.js';
import { isSlotName } from './types.js';
import type { SlotBackend, SlotName, SlotPayloadFormat, SlotStatus, TrialBoot } from './types.js';

export type FileSlotLayout = 'dir' | 'image';

export interface FileBootEnv {
  primary: SlotName;
  armed: SlotName | null;
  /** Trial boots left for `armed`. */
  tries: number;
}

export interface FileBootedInfo {
  slot: SlotName;
  trialBoot: boolean;
  bootId: string;
  bootSeq: number;
}

export interface FileSlotOptions {
  root: string;
  layout: FileSlotLayout;
  /** Trial boots the boot loader allows an armed slot (default 1: one-shot, like tryboot). */
  tries?: number;
  /** Capacity of an image slot in bytes (default: unbounded). */
  capacity?: number | null;
}

const BOOTENV = 'bootenv.json';
const BOOTED = 'booted.json';

function slotErr(message: string): PgwError {
  return new PgwError('PGW_E_OTA_SLOT', message);
}

export function fileSlotPath(root: string, layout: FileSlotLayout, slot: SlotName): string {
  return join(root, 'slots', layout === 'dir' ? slot : `${slot}.img`);
}

async function readJson<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw slotErr(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw slotErr(`${path} is not JSON: ${(e as Error).message}`);
  }
}

export async function readBootEnv(root: string): Promise<FileBootEnv> {
  const env = await readJson<FileBootEnv>(join(root, BOOTENV));
  if (!isSlotName(env.primary) || (env.armed !== null && !isSlotName(env.armed)) || !Number.isInteger(env.tries))
    throw slotErr(`${join(root, BOOTENV)} is malformed`);
  return env;
}

async function writeBootEnv(root: string, env: FileBootEnv): Promise<void> {
  await writeFileAtomic(join(root, BOOTENV), `${JSON.stringify(env)}\n`, { mode: 0o644 });
}

export async function readBootedInfo(root: string): Promise<FileBootedInfo> {
  const info = await readJson<FileBootedInfo>(join(root, BOOTED));
  if (!isSlotName(info.slot)) throw slotErr(`${join(root, BOOTED)} is malformed`);
  return info;
}

/**
 * The simulated boot loader: boots the armed slot while it has tries left
 * (spending one), else the primary; records what it booted with a new boot id.
 */
export async function simulateBoot(root: string): Promise<FileBootedInfo> {
  const env = await readBootEnv(root);
  let prev: FileBootedInfo | undefined;
  try {
    prev = await readBootedInfo(root);
  } catch {
    prev = undefined;
  }
  let slot = env.primary;
  let trialBoot = false;
  if (env.armed !== null && env.tries > 0) {
    slot = env.armed;
    trialBoot = true;
    env.tries -= 1;
    if (env.tries === 0) env.armed = null;
    await writeBootEnv(root, env);
  }
  const bootSeq = (prev?.bootSeq ?? 0) + 1;
  const info: FileBootedInfo = { slot, trialBoot, bootSeq, bootId: `sim-boot-${bootSeq}` };
  await writeFileAtomic(join(root, BOOTED), `${JSON.stringify(info)}\n`, { mode: 0o644 });
  return info;
}

/** Creates an empty slot tree booted from `primary` (default a). */
export async function initFileSlots(root: string, options: { layout: FileSlotLayout; primary?: SlotName }): Promise<FileBootedInfo> {
  await mkdir(join(root, 'slots'), { recursive: true });
  if (options.layout === 'dir') {
    await mkdir(fileSlotPath(root, 'dir', 'a'), { recursive: true });
    await mkdir(fileSlotPath(root, 'dir', 'b'), { recursive: true });
  }
  await writeBootEnv(root, { primary: options.primary ?? 'a', armed: null, tries: 0 });
  return simulateBoot(root);
}

export class FileSlotBackend implements SlotBackend {
  readonly kind = 'file' as const;
  readonly formats: readonly SlotPayloadFormat[];

  constructor(private readonly options: FileSlotOptions) {
    this.formats = options.layout === 'dir' ? ['tar'] : ['raw'];
  }

  slotPath(slot: SlotName): string {
    return fileSlotPath(this.options.root, this.options.layout, slot);
  }

  async status(): Promise<SlotStatus> {
    const [env, booted] = await Promise.all([readBootEnv(this.options.root), readBootedInfo(this.options.root)]);
    return { booted: booted.slot, primary: env.primary, armed: env.armed, trialBoot: booted.trialBoot };
  }

  async capacity(_slot: SlotName): Promise<number | null> {
    return this.options.layout === 'image' ? (this.options.capacity ?? null) : null;
  }

  async openWriter(slot: SlotName, options: { format: SlotPayloadFormat; size: number }): Promise<Writable> {
    if (!this.formats.includes(options.format)) throw slotErr(`a ${this.options.layout} slot cannot take a ${options.format} payload`);
    const st = await this.status();
    if (slot === st.booted) throw slotErr(`refusing to write slot ${slot}: it is the running slot`);
    const path = this.slotPath(slot);
    if (this.options.layout === 'dir') return openTarWriter(path);
    return openRawWriter(path, { truncate: true, limit: this.options.capacity ?? null });
  }

  async openReader(slot: SlotName, size: number): Promise<Readable | undefined> {
    if (this.options.layout !== 'image') return undefined;
    const path = this.slotPath(slot);
    await stat(path).catch((e: Error) => {
      throw slotErr(`cannot read slot ${slot}: ${e.message}`);
    });
    return openRawReader(path, size);
  }

  async arm(slot: SlotName): Promise<TrialBoot> {
    const env = await readBootEnv(this.options.root);
    await writeBootEnv(this.options.root, { ...env, armed: slot, tries: this.options.tries ?? 1 });
    return {};
  }

  async disarm(): Promise<void> {
    const env = await readBootEnv(this.options.root);
    if (env.armed === null && env.tries === 0) return;
    await writeBootEnv(this.options.root, { ...env, armed: null, tries: 0 });
  }

  async commit(slot: SlotName): Promise<void> {
    await writeBootEnv(this.options.root, { primary: slot, armed: null, tries: 0 });
  }
}
