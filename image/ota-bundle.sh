#!/bin/bash
# Turns the root file system an image build made into an OTA bundle for the
# update system (ota/bundle: manifest, SHA-256, Ed25519 signature):
#
#   image/ota-bundle.sh BOARD=x86-poe [VERSION=1.2.3] [ROOTFS=image/out/x86-poe/rootfs.ext4]
#                       [OUT=image/out/x86-poe/pgw-x86-poe-1.2.3.pgwb] [KEY=signing-key.pem]
#                       [COMPATIBLE=x86-poe] [MIN_FROM=1.0.0]
#
# The payload is the raw ext4 root file system: the `grub` and `rpi-tryboot`
# slot backends write it as is into the inactive root partition. Without KEY
# the bundle is unsigned (sign it later with `pgw ota sign`, on the machine that
# holds the key). Uses `pgw ota build` when the CLI has it, else the same
# library function (ota/bundle/build.ts) through tsx.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
take_assignments "$@"

BOARD="${BOARD:?BOARD=x86-poe|rpi4-poe|rpi5-poe}"
debian_arch_of_board "$BOARD" >/dev/null
ROOTFS="${ROOTFS:-$REPO/image/out/$BOARD/rootfs.ext4}"
info="$(dirname "$ROOTFS")/build-info.json"
if [ -z "${VERSION:-}" ] && [ -f "$info" ]; then VERSION="$(node -p "require('$info').version")"; fi
VERSION="${VERSION:?VERSION=x.y.z (or a build-info.json beside ROOTFS)}"
COMPATIBLE="${COMPATIBLE:-$BOARD}"
OUT="${OUT:-$(dirname "$ROOTFS")/pgw-$BOARD-$VERSION.pgwb}"
[ -f "$ROOTFS" ] || die "no root file system image at $ROOTFS (run image/build.sh BOARD=$BOARD first)"

# A root image that is not a clean ext4 would brick the slot it is written to.
if command -v e2fsck >/dev/null; then
  e2fsck -n -f "$ROOTFS" >/dev/null 2>&1 || die "$ROOTFS is not a clean ext4 file system"
fi

cli="$REPO/dist/cli.js"
if [ -f "$cli" ] && node "$cli" ota build --help >/dev/null 2>&1; then
  args=(ota build --image "$ROOTFS" --out "$OUT" --version "$VERSION")
  # One --board per compatible board (COMPATIBLE is comma-separated).
  IFS=',' read -r -a boards <<<"$COMPATIBLE"
  for b in "${boards[@]}"; do args+=(--board "$b"); done
  [ -n "${MIN_FROM:-}" ] && args+=(--min-from "$MIN_FROM")
  [ -n "${KEY:-}" ] && args+=(--key "$KEY")
  node "$cli" "${args[@]}"
else
  log "pgw ota build not in dist/cli.js: calling ota/bundle/build.ts through tsx"
  (cd "$REPO" && ROOTFS="$ROOTFS" OUT="$OUT" VERSION="$VERSION" COMPATIBLE="$COMPATIBLE" MIN_FROM="${MIN_FROM:-}" KEY="${KEY:-}" \
    node --import tsx --input-type=module -e '
      const { buildBundle } = await import("./ota/bundle/build.ts");
      const { loadPrivateKey } = await import("./ota/bundle/keys.ts");
      const e = process.env;
      const r = await buildBundle({
        input: { kind: "image", path: e.ROOTFS },
        out: e.OUT,
        version: e.VERSION,
        compatible: e.COMPATIBLE.split(","),
        ...(e.MIN_FROM ? { minFromVersion: e.MIN_FROM } : {}),
        ...(e.KEY ? { privateKey: await loadPrivateKey(e.KEY) } : {}),
      });
      console.log(JSON.stringify({ out: e.OUT, size: r.size, signed: r.signed, version: r.manifest.version, compatible: r.manifest.compatible }));
    ')
fi
log "bundle: $OUT"
