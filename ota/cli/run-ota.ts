/**
 * `pgw ota keygen|build|sign|verify|inspect`: the release side of the
 * update system (bundle format: ota/bundle/format.ts, docs/OTA.md).
 *
 *   pgw ota keygen --out NAME [--force]
 *   pgw ota build (--image FILE | --tarball FILE | --rootfs DIR) --version V --board B [--board B…]
 *                 [--min-from V] [--allow-downgrade] [--notes TEXT] [--key KEY] --out BUNDLE
 *   pgw ota sign --key KEY BUNDLE [--out FILE] [--detached]
 *   pgw ota verify --pub FILE|DIR [--pub …] [--signature B64] [--json] BUNDLE
 *   pgw ota inspect [--json] BUNDLE
 *
 * Exit codes: 0 success, 1 invalid bundle or key, 2 usage error, 3 failure.
 */
import { access, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isPgwError } from '../../firmware/src/util/errors.js';
import { buildBundle, signBundle } from '../bundle/build.js';
import type { BuildInput } from '../bundle/build.js';
import { bundleSize, isUnsigned } from '../bundle/format.js';
import { generateSigningKeyPair, loadPrivateKey, loadTrustedKeys } from '../bundle/keys.js';
import { hashFileRange, readBundleHead, verifyBundleFile } from '../bundle/read.js';
import { detachedSignature } from '../bundle/sign.js';
import { OTA_EXIT, OtaUsageError, processOtaIo } from './io.js';
import type { OtaCliIo } from './io.js';
import { humanBytes } from './progress-bar.js';

export const OTA_COMMANDS = [
  { name: 'ota keygen', synopsis: 'pgw ota keygen --out NAME [--force]', summary: 'make an Ed25519 signing key pair: NAME.key (private, 0600) and NAME.pub' },
  {
    name: 'ota build',
    synopsis:
      'pgw ota build (--image FILE | --tarball FILE | --rootfs DIR) --version V --board B [--board B...] [--min-from V] [--allow-downgrade] [--notes TEXT] [--key KEY] --out BUNDLE',
    summary: 'build a bundle from a file system image or a root tree (signed when --key is given)',
  },
  { name: 'ota sign', synopsis: 'pgw ota sign --key KEY BUNDLE [--out FILE] [--detached]', summary: 'sign a bundle in place (or into --out); --detached prints a signature for ota/desired instead' },
  {
    name: 'ota verify',
    synopsis: 'pgw ota verify --pub FILE|DIR [--pub ...] [--signature B64] [--json] BUNDLE',
    summary: 'check the signature with trusted public keys and the image hash; exit 1 when invalid',
  },
  { name: 'ota inspect', synopsis: 'pgw ota inspect [--json] BUNDLE', summary: 'print the header and manifest (no trust check)' },
] as const;

export function otaUsage(): string {
  return ['Usage:', ...OTA_COMMANDS.flatMap((c) => [`  ${c.synopsis}`, `      ${c.summary}`]), '', 'Exit codes: 0 success, 1 invalid bundle or key, 2 usage error, 3 failure.', ''].join('\n');
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new OtaUsageError(`expected exactly one ${what}`);
  return positionals[0]!;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function keygen(args: string[], io: OtaCliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { out: { type: 'string' }, force: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length > 0 || !values.out) throw new OtaUsageError('keygen needs --out NAME and nothing else');
  const keyPath = `${values.out}.key`;
  const pubPath = `${values.out}.pub`;
  if (!values.force && ((await exists(keyPath)) || (await exists(pubPath)))) {
    io.err(`pgw ota keygen: ${keyPath} or ${pubPath} exists (--force to replace)\n`);
    return OTA_EXIT.INVALID;
  }
  const k = generateSigningKeyPair();
  await writeFile(keyPath, k.privatePem, { mode: 0o600 });
  await writeFile(pubPath, k.publicPem, { mode: 0o644 });
  io.out(`key id ${k.keyId}\nprivate key: ${keyPath} (keep it offline)\npublic key:  ${pubPath} (bake it into the image's trusted keys)\n`);
  return OTA_EXIT.OK;
}

async function build(args: string[], io: OtaCliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      image: { type: 'string' },
      tarball: { type: 'string' },
      rootfs: { type: 'string' },
      version: { type: 'string' },
      board: { type: 'string', multiple: true },
      'min-from': { type: 'string' },
      'allow-downgrade': { type: 'boolean' },
      notes: { type: 'string' },
      key: { type: 'string' },
      out: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new OtaUsageError(`unexpected argument ${positionals[0]}`);
  const inputs = (['image', 'tarball', 'rootfs'] as const).filter((k) => values[k] !== undefined);
  if (inputs.length !== 1) throw new OtaUsageError('build takes exactly one of --image, --tarball, --rootfs');
  if (!values.version || !values.board?.length || !values.out) throw new OtaUsageError('build needs --version, --board and --out');
  const kind = inputs[0]!;
  const input: BuildInput = { kind: kind === 'rootfs' ? 'directory' : kind, path: values[kind]! };
  const privateKey = values.key ? await loadPrivateKey(values.key) : undefined;
  const r = await buildBundle({
    input,
    out: values.out,
    version: values.version,
    compatible: values.board,
    minFromVersion: values['min-from'],
    allowDowngrade: values['allow-downgrade'] ?? false,
    notes: values.notes,
    privateKey,
  });
  io.out(
    `${values.out}: version ${r.manifest.version} for ${r.manifest.compatible.join(', ')}, ${r.manifest.image.format} image ${humanBytes(r.manifest.image.size)}, bundle ${r.size} bytes, ${r.signed ? 'signed' : 'UNSIGNED (pgw ota sign)'}\n`,
  );
  return OTA_EXIT.OK;
}

async function sign(args: string[], io: OtaCliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { key: { type: 'string' }, out: { type: 'string' }, detached: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const bundle = one(positionals, 'BUNDLE');
  if (!values.key) throw new OtaUsageError('sign needs --key KEY');
  const key = await loadPrivateKey(values.key);
  if (values.detached) {
    if (values.out) throw new OtaUsageError('--detached prints the signature; it takes no --out');
    const head = await readBundleHead(bundle);
    io.out(`${detachedSignature(head.headerBytes, head.manifestBytes, key)}\n`);
    return OTA_EXIT.OK;
  }
  const { keyId } = await signBundle({ path: bundle, privateKey: key, out: values.out });
  io.out(`${values.out ?? bundle}: signed with key ${keyId}\n`);
  return OTA_EXIT.OK;
}

async function verify(args: string[], io: OtaCliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { pub: { type: 'string', multiple: true }, signature: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const bundle = one(positionals, 'BUNDLE');
  if (!values.pub?.length) throw new OtaUsageError('verify needs at least one --pub FILE|DIR');
  const trusted = await loadTrustedKeys(values.pub);
  try {
    const r = await verifyBundleFile(bundle, { trusted, detached: values.signature });
    const m = r.head.manifest;
    if (values.json)
      io.out(
        `${JSON.stringify({ valid: true, keyId: r.signature.keyId, signature: r.signature.signature, version: m.version, compatible: m.compatible, size: r.bundleSize, sha256: r.bundleSha256 })}\n`,
      );
    else io.out(`${bundle}: valid; version ${m.version}; signed by ${r.signature.keyId} (${r.signature.signature}); sha256 ${r.bundleSha256}\n`);
    return OTA_EXIT.OK;
  } catch (e) {
    if (!isPgwError(e, 'PGW_E_OTA_SIGNATURE') && !isPgwError(e, 'PGW_E_OTA_BUNDLE')) throw e;
    if (values.json) io.out(`${JSON.stringify({ valid: false, code: e.code, error: e.message })}\n`);
    io.err(`pgw ota verify: ${bundle} is NOT valid: ${e.message}\n`);
    return OTA_EXIT.INVALID;
  }
}

async function inspect(args: string[], io: OtaCliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  const bundle = one(positionals, 'BUNDLE');
  const head = await readBundleHead(bundle);
  const { sha256, size } = await hashFileRange(bundle);
  const h = head.header;
  const info = {
    file: bundle,
    size,
    sha256,
    complete: size === bundleSize(h),
    formatVersion: h.formatVersion,
    signed: !isUnsigned(h),
    keyId: isUnsigned(h) ? null : h.keyId,
    imageOffset: h.imageOffset,
    imageLength: h.imageLength,
    manifest: head.manifest,
  };
  if (values.json) {
    io.out(`${JSON.stringify(info, null, 2)}\n`);
    return OTA_EXIT.OK;
  }
  const m = head.manifest;
  io.out(
    [
      `file:          ${bundle} (${size} bytes${info.complete ? '' : `, EXPECTED ${bundleSize(h)}`})`,
      `sha256:        ${sha256}`,
      `format:        ${h.formatVersion}; image at ${h.imageOffset}, ${h.imageLength} bytes`,
      `signature:     ${info.signed ? `key ${h.keyId} (not checked: use pgw ota verify)` : 'none'}`,
      `version:       ${m.version}`,
      `boards:        ${m.compatible.join(', ')}`,
      `from version:  ${m.minFromVersion ?? 'any'}`,
      `downgrade:     ${m.allowDowngrade ? 'allowed' : 'no'}`,
      `created:       ${m.createdAt}`,
      `image:         ${m.image.format}, ${humanBytes(m.image.size)}, sha256 ${m.image.sha256}`,
      ...(m.notes ? [`notes:         ${m.notes}`] : []),
      '',
    ].join('\n'),
  );
  return OTA_EXIT.OK;
}

/** Runs `pgw ota <argv...>` (argv is what follows `ota`); resolves to the exit code. */
export async function runOta(argv: string[], io: OtaCliIo = processOtaIo()): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      (cmd === undefined ? io.err : io.out)(otaUsage());
      return cmd === undefined ? OTA_EXIT.USAGE : OTA_EXIT.OK;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(otaUsage());
      return OTA_EXIT.OK;
    }
    switch (cmd) {
      case 'keygen':
        return await keygen(rest, io);
      case 'build':
        return await build(rest, io);
      case 'sign':
        return await sign(rest, io);
      case 'verify':
        return await verify(rest, io);
      case 'inspect':
        return await inspect(rest, io);
      default:
        throw new OtaUsageError(`unknown command "ota ${cmd}"`);
    }
  } catch (e) {
    if (e instanceof OtaUsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`pgw ota: ${(e as Error).message}\n\n${otaUsage()}`);
      return OTA_EXIT.USAGE;
    }
    if (isPgwError(e) && ['PGW_E_OTA_BUNDLE', 'PGW_E_OTA_SIGNATURE'].includes(e.code)) {
      io.err(`pgw ota ${cmd}: ${e.message}\n`);
      return OTA_EXIT.INVALID;
    }
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      io.err(`pgw ota ${cmd}: ${(e as Error).message}\n`);
      return OTA_EXIT.INVALID;
    }
    io.err(`pgw ota ${cmd}: ${(e as Error).message}\n`);
    return OTA_EXIT.FAILURE;
  }
}
