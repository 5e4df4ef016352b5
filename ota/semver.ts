/**
 * Semantic versions (semver.org 2.0.0), just enough for the update system:
 * parse, and compare by precedence (§11). Versions only go up on a box
 * unless the signed manifest allows a downgrade, so the comparison must be
 * the exact precedence rule: pre-releases sort below their release
 * (1.2.0-rc.1 < 1.2.0), numeric identifiers compare as numbers, build
 * metadata is ignored (§10).
 */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: readonly (string | number)[];
  build: readonly string[];
  text: string;
}

// §2 and §9-§10: no leading zeros in numeric parts; identifiers are [0-9A-Za-z-].
const NUM = '(0|[1-9]\\d*)';
const PRE_ID = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const SEMVER_RE = new RegExp(`^${NUM}\\.${NUM}\\.${NUM}(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?$`);

export function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER_RE.exec(text);
  if (!m) return undefined;
  const nums = [m[1], m[2], m[3]].map(Number);
  if (nums.some((n) => !Number.isSafeInteger(n))) return undefined;
  return {
    major: nums[0]!,
    minor: nums[1]!,
    patch: nums[2]!,
    prerelease: m[4] ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [],
    build: m[5] ? m[5].split('.') : [],
    text,
  };
}

export function isSemVer(text: string): boolean {
  return parseSemVer(text) !== undefined;
}

/** -1, 0 or 1 by semver precedence (§11); throws on an invalid version. */
export function compareSemVer(a: string, b: string): -1 | 0 | 1 {
  const x = parseSemVer(a);
  const y = parseSemVer(b);
  if (!x || !y) throw new TypeError(`not a semantic version: ${!x ? a : b}`);
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (x[k] !== y[k]) return x[k] < y[k] ? -1 : 1;
  }
  // §11.3: a version without pre-release has higher precedence.
  if (x.prerelease.length === 0 || y.prerelease.length === 0) {
    if (x.prerelease.length === y.prerelease.length) return 0;
    return x.prerelease.length === 0 ? 1 : -1;
  }
  const n = Math.min(x.prerelease.length, y.prerelease.length);
  for (let i = 0; i < n; i++) {
    const p = x.prerelease[i]!;
    const q = y.prerelease[i]!;
    if (p === q) continue;
    // §11.4.3: numeric identifiers have lower precedence than alphanumeric ones.
    if (typeof p === 'number' && typeof q === 'number') return p < q ? -1 : 1;
    if (typeof p === 'number') return -1;
    if (typeof q === 'number') return 1;
    return p < q ? -1 : 1;
  }
  if (x.prerelease.length === y.prerelease.length) return 0;
  return x.prerelease.length < y.prerelease.length ? -1 : 1;
}
