/**
 * The `grub` slot backend (x86 boxes), with the boot-once pattern on the
 * GRUB environment block. Variables (docs/OTA.md has the grub.cfg part):
 *
 *   pgw_primary   the default slot, `a` or `b`
 *   pgw_try       a slot armed for the next boot only; grub.cfg clears it
 *                 (save_env) before booting it, so a trial that hangs or
 *                 loses power is followed by a normal boot of pgw_primary
 *   pgw_trying    set by grub.cfg to the slot it booted on trial, cleared
 *                 on a normal boot: how the OS knows this boot is a trial
 *
 * grub.cfg passes `pgw.slot=<slot>` on the kernel command line; that is
 * how the running system knows which slot it is.
 *
 * The block is changed with grub-editenv when it is installed (the tool
 * GRUB's own docs want), else written here in the same 1024-byte format
 * (grubenv.ts), atomically.
 */
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { PgwError } from '../../firmware/src/util/errors.js';
import { writeFileAtomic } from '../../firmware/src/store/atomic-file.js';
import { GRUBENV_SIZE, parseGrubEnv, serializeGrubEnv } from './grubenv.js';
import { openRawReader, openRawSlotWriter, rawDeviceCapacity } from './slot-io.js';
import { isSlotName } from './types.js';
import type { SlotBackend, SlotName, SlotPayloadFormat, SlotStatus, TrialBoot } from './types.js';

export interface GrubSlotOptions {
  /** Default /boot/grub/grubenv. */
  envFile?: string;
  /** Default /proc/cmdline. */
  cmdlineFile?: string;
  /** Root file system device (or image file in tests) of each slot. */
  slots: Record<SlotName, { rootDevice: string }>;
  /** Path of grub-editenv, or null to always write the block here. Default: found on PATH. */
  editenv?: string | null;
  sysBlockDir?: string;
}

function slotErr(message: string): PgwError {
  return new PgwError('PGW_E_OTA_SLOT', message);
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(slotErr(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(slotErr(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

async function findOnPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = join(dir, name);
    const st = await stat(p).catch(() => undefined);
    if (st?.isFile()) return p;
  }
  return null;
}

/** The `pgw.slot=` value on a kernel command line. */
export function slotFromCmdline(cmdline: string): SlotName | undefined {
  const m = /(?:^|\s)pgw\.slot=(\S+)/.exec(cmdline);
  return m && isSlotName(m[1]) ? m[1] : undefined;
}

export class GrubSlotBackend implements SlotBackend {
  readonly kind = 'grub' as const;
  readonly formats: readonly SlotPayloadFormat[] = ['raw'];
  private editenv: Promise<string | null>;

  constructor(private readonly options: GrubSlotOptions) {
    this.editenv = options.editenv !== undefined ? Promise.resolve(options.editenv) : findOnPath('grub-editenv');
  }

  private get envFile(): string {
    return this.options.envFile ?? '/boot/grub/grubenv';
  }

  async readEnv(): Promise<Map<string, string>> {
    let buf: Buffer;
    try {
      buf = await readFile(this.envFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw slotErr(`cannot read ${this.envFile}: ${(e as Error).message}`);
    }
    return parseGrubEnv(buf);
  }

  /** Sets (or with '', clears) variables. */
  private async setVars(vars: Record<string, string>): Promise<void> {
    const tool = await this.editenv;
    if (tool) {
      const exists = await stat(this.envFile).catch(() => undefined);
      if (!exists) await run(tool, [this.envFile, 'create']);
      const set = Object.entries(vars).filter(([, v]) => v !== '');
      const unset = Object.entries(vars).filter(([, v]) => v === '');
      if (set.length) await run(tool, [this.envFile, 'set', ...set.map(([k, v]) => `${k}=${v}`)]);
      if (unset.length) await run(tool, [this.envFile, 'unset', ...unset.map(([k]) => k)]);
      return;
    }
    const env = await this.readEnv();
    for (const [k, v] of Object.entries(vars)) {
      if (v === '') env.delete(k);
      else env.set(k, v);
    }
    const block = serializeGrubEnv(env);
    if (block.length !== GRUBENV_SIZE) throw slotErr('internal: grubenv block size');
    await writeFileAtomic(this.envFile, block, { mode: 0o644 });
  }

  async status(): Promise<SlotStatus> {
    const env = await this.readEnv();
    let cmdline: string;
    try {
      cmdline = await readFile(this.options.cmdlineFile ?? '/proc/cmdline', 'utf8');
    } catch (e) {
      throw slotErr(`cannot read the kernel command line: ${(e as Error).message}`);
    }
    const booted = slotFromCmdline(cmdline);
    if (!booted) throw slotErr('the kernel command line has no pgw.slot=a|b (is grub.cfg the one from docs/OTA.md?)');
    const primary = env.get('pgw_primary');
    const armed = env.get('pgw_try');
    return {
      booted,
      primary: isSlotName(primary) ? primary : 'a',
      armed: isSlotName(armed) ? armed : null,
      trialBoot: env.get('pgw_trying') === booted,
    };
  }

  async capacity(slot: SlotName): Promise<number | null> {
    return rawDeviceCapacity(this.options.slots[slot].rootDevice, this.options.sysBlockDir);
  }

  async openWriter(slot: SlotName, options: { format: SlotPayloadFormat; size: number }): Promise<Writable> {
    const { booted } = await this.status();
    return openRawSlotWriter({ backend: 'grub', slot, booted, device: this.options.slots[slot].rootDevice, ...options, sysBlockDir: this.options.sysBlockDir });
  }

  async openReader(slot: SlotName, size: number): Promise<Readable | undefined> {
    return openRawReader(this.options.slots[slot].rootDevice, size);
  }

  async arm(slot: SlotName): Promise<TrialBoot> {
    await this.setVars({ pgw_try: slot });
    return {};
  }

  async disarm(): Promise<void> {
    await this.setVars({ pgw_try: '' });
  }

  async commit(slot: SlotName): Promise<void> {
    await this.setVars({ pgw_primary: slot, pgw_try: '', pgw_trying: '' });
  }
}
