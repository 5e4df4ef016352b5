#!/bin/bash
# Boots the x86 image under qemu-system-x86_64 and waits until the gateway
# answers GET /api/v1/status:
#
#   image/qemu-smoke.sh [IMAGE=image/out/x86-poe/pgw-x86-poe.img] [PORT=18080] [TIMEOUT=1800] [ACCEL=tcg|kvm]
#
# UEFI (OVMF) like the appliance; software emulation (TCG) unless ACCEL=kvm;
# the disk is a copy-on-write snapshot, so the image stays as built. The
# guest's network is qemu's user-mode network with `restrict=on`: it can
# reach nothing outside; the admin API's port 8080 is forwarded to
# 127.0.0.1:PORT. Prints one JSON line with the result and the timings, and
# keeps the guest's serial console in CONSOLE.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
take_assignments "$@"

IMAGE="${IMAGE:-$REPO/image/out/x86-poe/pgw-x86-poe.img}"
PORT="${PORT:-18080}"
TIMEOUT="${TIMEOUT:-1800}"
ACCEL="${ACCEL:-tcg}"
CONSOLE="${CONSOLE:-$(dirname "$IMAGE")/qemu-console.log}"
MEM="${MEM:-1536}"
[ -f "$IMAGE" ] || die "no image at $IMAGE (image/build.sh BOARD=x86-poe)"
need_commands qemu-system-x86_64:qemu-system-x86 curl:curl
OVMF=""
for f in /usr/share/ovmf/OVMF.fd /usr/share/qemu/OVMF.fd; do [ -f "$f" ] && OVMF="$f" && break; done
if [ -z "$OVMF" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ovmf >/dev/null
  OVMF=/usr/share/ovmf/OVMF.fd
fi

: > "$CONSOLE"
started=$(date +%s)
# One vCPU: the build machines have two cores and other work to do.
nice -n 19 qemu-system-x86_64 \
  -machine q35 -accel "$ACCEL" -cpu max -smp 1 -m "$MEM" \
  -bios "$OVMF" \
  -drive "file=$IMAGE,format=raw,if=virtio,snapshot=on" \
  -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:8080" -device virtio-net-pci,netdev=n0 \
  -display none -monitor none -serial "file:$CONSOLE" -no-reboot &
qemu=$!
cleanup() { kill "$qemu" 2>/dev/null || true; wait "$qemu" 2>/dev/null || true; }
trap cleanup EXIT

result=timeout
status=""
kernel_at=""
firstboot_at=""
while [ $(( $(date +%s) - started )) -lt "$TIMEOUT" ]; do
  if ! kill -0 "$qemu" 2>/dev/null; then result=qemu-exited; break; fi
  [ -z "$kernel_at" ] && grep -q 'Linux version' "$CONSOLE" && kernel_at=$(( $(date +%s) - started ))
  [ -z "$firstboot_at" ] && grep -q 'pgw first boot:' "$CONSOLE" && firstboot_at=$(( $(date +%s) - started ))
  if status="$(curl -sf --max-time 5 "http://127.0.0.1:$PORT/api/v1/status" 2>/dev/null)"; then
    result=ok
    break
  fi
  sleep 5
done
secs=$(( $(date +%s) - started ))
claim="$(grep -o 'claim code [0-9A-Z]\{4\}-[0-9A-Z]\{4\}' "$CONSOLE" | head -1 | cut -d' ' -f3 || true)"
printf '{"result":"%s","accel":"%s","seconds":%s,"kernelAfter":%s,"firstBootAfter":%s,"claimCode":"%s","status":%s}\n' \
  "$result" "$ACCEL" "$secs" "${kernel_at:-null}" "${firstboot_at:-null}" "$claim" "${status:-null}"
[ "$result" = ok ]
