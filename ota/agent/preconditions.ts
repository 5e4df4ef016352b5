/**
 * What must hold before a byte of the image is downloaded. Checked on the
 * signed manifest (fetched alone with a Range request), so a box refuses
 * early, says exactly why in ota/reported, and never fills its disk.
 * Every check is evaluated and reported, not only the first that fails.
 */
import { bundleSize } from '../bundle/format.js';
import type { BundleHeader } from '../bundle/format.js';
import type { Manifest } from '../bundle/manifest.js';
import type { OtaDesired } from '../protocol/desired.js';
import { compareSemVer } from '../semver.js';

export const REFUSAL_CODES = [
  'invalid-target',
  'bad-signature',
  'bad-bundle',
  'target-mismatch',
  'size-mismatch',
  'incompatible-board',
  'already-installed',
  'not-newer',
  'from-version-too-old',
  'unsupported-payload',
  'slot-too-small',
  'insufficient-space',
  'hash-mismatch',
  'image-hash-mismatch',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

export interface PreconditionResult {
  name: string;
  ok: boolean;
  /** Set when !ok. */
  code?: RefusalCode;
  detail: string;
}

export interface PreconditionInput {
  desired: OtaDesired;
  header: BundleHeader;
  manifest: Manifest;
  board: string;
  runningVersion: string;
  formats: readonly string[];
  slotCapacity: number | null;
  freeBytes: number;
  /** Bytes of this bundle already on disk (a resumed download). */
  haveBytes: number;
  reserveBytes: number;
}

export function checkPreconditions(i: PreconditionInput): PreconditionResult[] {
  const out: PreconditionResult[] = [];
  const add = (name: string, ok: boolean, code: RefusalCode, detail: string): void => {
    out.push(ok ? { name, ok, detail } : { name, ok, code, detail });
  };
  const m = i.manifest;
  add('target', m.version === i.desired.version, 'target-mismatch', `the target names ${i.desired.version}; the bundle holds ${m.version}`);
  const size = bundleSize(i.header);
  add('size', size === i.desired.size, 'size-mismatch', `the target says ${i.desired.size} bytes; the bundle header says ${size}`);
  add('board', m.compatible.includes(i.board), 'incompatible-board', `this board is ${i.board}; the bundle is for ${m.compatible.join(', ')}`);
  const order = compareSemVer(m.version, i.runningVersion);
  if (order === 0) add('version', false, 'already-installed', `${m.version} is the running version`);
  else if (order < 0)
    add('version', m.allowDowngrade, 'not-newer', `${m.version} is older than the running ${i.runningVersion}${m.allowDowngrade ? ' (downgrade allowed by the manifest)' : ' and the manifest does not allow a downgrade'}`);
  else add('version', true, 'not-newer', `${m.version} is newer than the running ${i.runningVersion}`);
  if (m.minFromVersion !== undefined) {
    const ok = compareSemVer(i.runningVersion, m.minFromVersion) >= 0;
    add('from-version', ok, 'from-version-too-old', `the bundle updates from ${m.minFromVersion} or later; running ${i.runningVersion}`);
  }
  add('payload', i.formats.includes(m.image.format), 'unsupported-payload', `a ${m.image.format} image; the slots take ${i.formats.join(', ')}`);
  if (i.slotCapacity !== null)
    add('slot', m.image.size <= i.slotCapacity, 'slot-too-small', `the image is ${m.image.size} bytes; the inactive slot holds ${i.slotCapacity}`);
  const need = size - i.haveBytes + i.reserveBytes;
  add('space', i.freeBytes >= need, 'insufficient-space', `${need} bytes needed (${size - i.haveBytes} to download + ${i.reserveBytes} reserve); ${i.freeBytes} free`);
  return out;
}

export function firstFailure(results: readonly PreconditionResult[]): PreconditionResult | undefined {
  return results.find((r) => !r.ok);
}
