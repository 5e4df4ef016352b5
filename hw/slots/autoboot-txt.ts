/**
 * autoboot.txt, the Raspberry Pi boot loader's partition selector (Pi 4
 * and 5 EEPROM boot loader; Raspberry Pi documentation, "autoboot.txt"):
 * at most 512 bytes, `[all]` / `[none]` / `[tryboot]` conditional
 * sections, `boot_partition=N` picks the FAT partition to boot and
 * `tryboot_a_b=1` makes a tryboot load the normal config.txt from the
 * tryboot partition (A/B at partition level rather than file level).
 *
 * The agent owns this file: it reads the two boot_partition values and
 * writes the whole file back in one canonical form.
 */
import { PgwError } from '../../firmware/src/util/errors.js';

export const AUTOBOOT_MAX_BYTES = 512;

export interface AutobootConfig {
  /** `[all] boot_partition`: the normal boot. */
  bootPartition: number;
  /** `[tryboot] boot_partition`: the boot after `reboot "0 tryboot"`. */
  trybootPartition: number;
}

export function parseAutoboot(text: string): AutobootConfig {
  let section = 'all';
  const values: Record<string, Record<string, string>> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sec = /^\[([a-z_]+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      continue;
    }
    const kv = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new PgwError('PGW_E_OTA_SLOT', `autoboot.txt: cannot read line "${line}"`);
    (values[section] ??= {})[kv[1]!] = kv[2]!;
  }
  const num = (sectionName: string): number | undefined => {
    const v = values[sectionName]?.boot_partition;
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 63) throw new PgwError('PGW_E_OTA_SLOT', `autoboot.txt: bad boot_partition "${v}" in [${sectionName}]`);
    return n;
  };
  const all = num('all');
  if (all === undefined) throw new PgwError('PGW_E_OTA_SLOT', 'autoboot.txt has no [all] boot_partition');
  return { bootPartition: all, trybootPartition: num('tryboot') ?? all };
}

export function serializeAutoboot(c: AutobootConfig): string {
  const text = [
    '# Written by the pgw update agent (hw/slots/rpi-tryboot.ts); edits are overwritten.',
    '[all]',
    'tryboot_a_b=1',
    `boot_partition=${c.bootPartition}`,
    '[tryboot]',
    `boot_partition=${c.trybootPartition}`,
    '',
  ].join('\n');
  if (Buffer.byteLength(text) > AUTOBOOT_MAX_BYTES) throw new PgwError('PGW_E_OTA_SLOT', 'autoboot.txt would exceed 512 bytes');
  return text;
}
