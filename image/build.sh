#!/bin/bash
# Builds the appliance image for one board:
#
#   image/build.sh BOARD=x86-poe|rpi4-poe|rpi5-poe [VERSION=1.2.3] [OUT=dir] [WORK=dir]
#
# Debian bookworm root file system by mmdebstrap, Node.js from the npm
# registry's node-linux-<arch> package, the bundled gateway (dist/, tsup)
# with its production node_modules, systemd units, then the partitions
# (boot, root A, root B, data) assembled by genimage. Output in OUT:
#   pgw-<board>.img   the disk image (raw; dd it to the box's disk / SD card)
#   rootfs.ext4       the root file system alone (image/ota-bundle.sh makes the OTA bundle from it)
#   build-info.json   what was built, and how long it took
# Runs as root (mmdebstrap root mode, mke2fs -d keeps ownership). docs/IMAGE.md tells more.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
take_assignments "$@"

BOARD="${BOARD:?BOARD=x86-poe|rpi4-poe|rpi5-poe}"
ARCH="$(debian_arch_of_board "$BOARD")"
VERSION="${VERSION:-$(node -p "require('$REPO/package.json').version")}"
OUT="${OUT:-$REPO/image/out/$BOARD}"
WORK="${WORK:-/var/tmp/pgw-image-$BOARD}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
ROOT_SIZE="${ROOT_SIZE:-1536M}"
DATA_SIZE="${DATA_SIZE:-512M}"
NODE_VERSION="${NODE_VERSION:-20}"
BOARD_DIR="$HERE/boards/$BOARD"
started=$(date +%s)

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap root mode, file ownership in the images)"
[ -d "$BOARD_DIR" ] || die "no board directory $BOARD_DIR"

need_commands mmdebstrap:mmdebstrap genimage:genimage mkfs.ext4:e2fsprogs mkfs.vfat:dosfstools mcopy:mtools
if [ "$ARCH" = amd64 ]; then need_commands grub-mkstandalone:grub-efi-amd64-bin grub-editenv:grub-common; fi
if [ "$ARCH" != "$(dpkg --print-architecture)" ]; then
  # Foreign-architecture maintainer scripts run under qemu-user through binfmt_misc.
  need_commands qemu-aarch64-static:qemu-user-static arch-test:arch-test update-binfmts:binfmt-support
  [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
  update-binfmts --enable qemu-aarch64 2>/dev/null || true
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || die "binfmt_misc has no qemu-aarch64 entry: this kernel/container cannot run arm64 maintainer scripts"
fi

rm -rf "$WORK"
mkdir -p "$WORK" "$OUT"
log "board $BOARD ($ARCH), version $VERSION, work $WORK"

# ------------------------------------------------------------ the gateway and Node
app="$WORK/app"
mkdir -p "$app"
DIST="${DIST:-$REPO/dist}"
if [ ! -f "$DIST/cli.js" ]; then
  log "no $DIST/cli.js: building it (tsup)"
  (cd "$REPO" && npx tsup --out-dir "$app/dist" >/dev/null)
else
  cp -a "$DIST" "$app/dist"
fi
cp "$REPO/package.json" "$REPO/package-lock.json" "$app/"
# The production part of the repository's node_modules (what the tests ran
# against, installed from the lock file), else a fresh `npm ci --omit=dev`.
# No install scripts either way: serialport ships prebuilt addons for
# linux-x64 and linux-arm64 and picks one at run time, so nothing is
# compiled for the build host's architecture.
if [ -d "$REPO/node_modules" ] && (cd "$REPO" && npm ls --omit=dev --all --parseable >"$WORK/prod-deps.txt" 2>/dev/null); then
  log "copying production node_modules ($(($(wc -l <"$WORK/prod-deps.txt") - 1)) packages)"
  while IFS= read -r dir; do
    rel="${dir#"$REPO"/}"
    # Already there when it sits inside a package copied before (nested node_modules).
    [ "$rel" = "$dir" ] || [ -e "$app/$rel" ] && continue
    mkdir -p "$app/$(dirname "$rel")"
    cp -a "$dir" "$app/$rel"
  done < <(tail -n +2 "$WORK/prod-deps.txt" | sort)
else
  log "installing production node_modules (npm ci --omit=dev)"
  (cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
fi
node_pkg="$(node_package_of_arch "$ARCH")"
log "fetching Node.js ($node_pkg@$NODE_VERSION) from the npm registry"
mkdir -p "$WORK/node"
(cd "$WORK/node" && npm pack "$node_pkg@$NODE_VERSION" --silent >/dev/null && tar xzf ./*.tgz package/bin/node package/LICENSE)
NODE_BIN="$WORK/node/package/bin/node"
[ -x "$NODE_BIN" ] || die "no node binary in $node_pkg"

# The unit is Type=notify with WatchdogSec=30: the gateway sends READY=1 once
# it serves and pets WATCHDOG=1 while healthy (firmware/src/wiring/hardware.ts).
# A bundle without sd_notify predates that wiring (a stale dist/): systemd
# would never see it start, so rebuild it rather than ship it.
if ! grep -q 'WATCHDOG=1' "$app/dist/cli.js"; then
  log "$DIST/cli.js does not send sd_notify (stale bundle): rebuilding it (tsup)"
  rm -rf "$app/dist"
  (cd "$REPO" && npx tsup --out-dir "$app/dist" >/dev/null)
  grep -q 'WATCHDOG=1' "$app/dist/cli.js" || die "the bundled gateway does not send sd_notify: pgw.service (Type=notify) would never start"
fi

# ------------------------------------------------------------ root file system
packages="systemd,systemd-sysv,systemd-resolved,systemd-timesyncd,udev,dbus,kmod,iproute2,nftables,iputils-ping,openssl,ca-certificates,socat,procps,e2fsprogs,dosfstools,initramfs-tools,usb-modeswitch,libqmi-utils,less"
case "$ARCH" in
  amd64) packages="$packages,linux-image-amd64,grub-common" ;;
  arm64) packages="$packages,linux-image-arm64,raspi-firmware,firmware-brcm80211" ;;
esac
components=main
[ "$ARCH" = arm64 ] && components="main non-free-firmware"

rootfs="$WORK/rootfs"
log "mmdebstrap $SUITE $ARCH (this is the long part)"
# Hooks run on the host with the target directory as "$1".
nice -n 19 mmdebstrap --mode=root --variant=minbase --arch="$ARCH" --components="$components" \
  --include="$packages" \
  --aptopt='Acquire::Retries "3"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="cp -a '$HERE/rootfs/.' \"\$1/\"" \
  --customize-hook="mkdir -p \"\$1/usr/lib/pgw\" && cp -a '$app' \"\$1/usr/lib/pgw/app\"" \
  --customize-hook="install -m 0755 '$NODE_BIN' \"\$1/usr/bin/node\"" \
  --customize-hook="mkdir -p \"\$1/etc/pgw\" && echo '$BOARD' > \"\$1/etc/pgw/board\" && echo '$VERSION' > \"\$1/etc/pgw/version\"" \
  --customize-hook="chroot \"\$1\" systemctl enable pgw.service pgw-firstboot.service systemd-networkd.service systemd-resolved.service systemd-timesyncd.service" \
  --customize-hook="echo pgw > \"\$1/etc/hostname\"" \
  --customize-hook="ln -sf /run/systemd/resolve/stub-resolv.conf \"\$1/etc/resolv.conf\"" \
  "$SUITE" "$rootfs" "$MIRROR" 2>&1 | grep -v '^I: ' >&2 || true
[ -x "$rootfs/usr/bin/node" ] || die "mmdebstrap did not finish (see above)"

# Mount points on the read-only root, and a machine-id systemd fills in at boot.
mkdir -p "$rootfs/data" "$rootfs/boot/efi" "$rootfs/boot/autoboot"
: > "$rootfs/etc/machine-id"
# Each slot carries its kernel: /vmlinuz and /initrd.img at the top of the root file system.
kver="$(basename "$(ls -d "$rootfs"/lib/modules/* | sort -V | tail -1)")"
ln -sfn "boot/vmlinuz-$kver" "$rootfs/vmlinuz"
ln -sfn "boot/initrd.img-$kver" "$rootfs/initrd.img"
[ -f "$rootfs/boot/initrd.img-$kver" ] || die "no initramfs for $kver"
# Raspberry Pi: the boot partition's contents go into the root file system
# too (lib/common.sh make_boot_tree), so an update can rebuild the inactive
# slot's boot partition from the new root: new kernels reach the Pi.
BOOT_TREE="$rootfs/usr/lib/pgw/boot"
if [ "$ARCH" = arm64 ]; then make_boot_tree "$rootfs" "$kver" "$BOARD_DIR"; fi
rm -rf "$rootfs/var/cache/apt/"*.bin "$rootfs/var/lib/apt/lists/"*_* "$rootfs/var/log/"*
log "root file system: $(du -sh "$rootfs" | cut -f1), kernel $kver"

# ------------------------------------------------------------ file system images
img="$WORK/images"
mkdir -p "$img"
# GRUB 2.06 cannot read ext4 with metadata_csum_seed or orphan_file.
mkfs.ext4 -q -F -L pgw-root -O ^metadata_csum_seed,^orphan_file -E root_owner=0:0 -d "$rootfs" "$img/rootfs.ext4" "$ROOT_SIZE"
datatree="$WORK/datatree"
mkdir -p "$datatree/pgw/recordings" "$datatree/pgw/ota" "$datatree/config" "$datatree/identity"
chmod 0700 "$datatree/identity"
mkfs.ext4 -q -F -L pgw-data -d "$datatree" "$img/data.ext4" "$DATA_SIZE"

case "$ARCH" in
  amd64)
    esp="$WORK/esp"
    mkdir -p "$esp/EFI/BOOT" "$esp/grub"
    grub-mkstandalone -O x86_64-efi -o "$esp/EFI/BOOT/BOOTX64.EFI" \
      --modules="part_gpt fat ext2 normal linux search search_label configfile loadenv regexp test echo" \
      "boot/grub/grub.cfg=$BOARD_DIR/grub-early.cfg"
    cp "$BOARD_DIR/grub.cfg" "$esp/grub/grub.cfg"
    grub-editenv "$esp/grub/grubenv" create
    grub-editenv "$esp/grub/grubenv" set pgw_primary=a
    mkfs.vfat -C -n PGWEFI "$img/efi.vfat" 65536 >/dev/null
    mcopy -s -i "$img/efi.vfat" "$esp/EFI" "$esp/grub" ::/
    ;;
  arm64)
    for SLOT in a b; do
      b="$WORK/boot-$SLOT"
      fill_boot_partition "$BOOT_TREE" "$SLOT" "$b"
      mkfs.vfat -C -n "BOOT-$(echo $SLOT | tr a-z A-Z)" "$img/boot-$SLOT.vfat" 262144 >/dev/null
      mcopy -s -i "$img/boot-$SLOT.vfat" "$b"/* ::/
    done
    mkfs.vfat -C -n BOOTSEL "$img/bootsel.vfat" 8192 >/dev/null
    : > "$WORK/config.txt"
    mcopy -i "$img/bootsel.vfat" "$BOARD_DIR/autoboot.txt" "$WORK/config.txt" ::/
    ;;
esac

# ------------------------------------------------------------ the disk
export ROOT_SIZE
subst "$BOARD_DIR/genimage.cfg" ROOT_SIZE > "$WORK/genimage.cfg"
rm -rf "$WORK/genimage-tmp"
mkdir -p "$WORK/empty-root"
nice -n 19 genimage --config "$WORK/genimage.cfg" --inputpath "$img" --outputpath "$WORK/disk" \
  --tmppath "$WORK/genimage-tmp" --rootpath "$WORK/empty-root" >&2
disk="$(ls "$WORK/disk"/*.img | head -1)"
mv "$disk" "$OUT/pgw-$BOARD.img"
mv "$img/rootfs.ext4" "$OUT/rootfs.ext4"
secs=$(( $(date +%s) - started ))
cat > "$OUT/build-info.json" <<JSON
{ "board": "$BOARD", "arch": "$ARCH", "version": "$VERSION", "suite": "$SUITE", "kernel": "$kver",
  "image": "pgw-$BOARD.img", "imageBytes": $(stat -c %s "$OUT/pgw-$BOARD.img"),
  "rootfs": "rootfs.ext4", "rootfsBytes": $(stat -c %s "$OUT/rootfs.ext4"),
  "sdNotify": true,
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "seconds": $secs }
JSON
log "done in ${secs}s: $OUT/pgw-$BOARD.img"
[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
