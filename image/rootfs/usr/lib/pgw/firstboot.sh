#!/bin/bash
# First boot of a practice gateway (pgw-firstboot.service):
#  1. the device key pair (Ed25519) on /data/identity, never leaving the box;
#  2. the device id and the claim code, both derived from the public key, so
#     the cloud portal can check a claim code against the key the box shows;
#  3. the gateway file /data/config/gateway.json, seeded for this board;
#  4. the claim code on the front panel (the panel's line protocol,
#     docs/HARDWARE.md) and on the console.
# PGW_ROOT relocates every path (tests run it in a scratch directory).
set -euo pipefail

ROOT="${PGW_ROOT:-}"
IDENT="$ROOT/data/identity"
CONF="$ROOT/data/config"
BOARD_FILE="$ROOT/etc/pgw/board"
PANEL="${PGW_PANEL:-$ROOT/dev/pgw-panel}"

# A factory reset cut short by a power cut (docs/HARDWARE.md "Factory reset"): the gateway
# finishes it first thing, new identity included; one made here would only be replaced.
if [ -e "$ROOT/data/pgw/factory-reset.pending" ]; then
  echo "pgw first boot: a factory reset is pending; the gateway finishes it and makes the identity"
  exit 0
fi

board="generic"
[ -r "$BOARD_FILE" ] && board="$(tr -cd 'a-z0-9-' < "$BOARD_FILE")"

mkdir -p "$IDENT" "$CONF" "$ROOT/data/pgw/recordings" "$ROOT/data/pgw/ota"
chmod 0700 "$IDENT"

if [ ! -s "$IDENT/device.key" ]; then
  umask 077
  openssl genpkey -algorithm ed25519 -out "$IDENT/device.key.tmp"
  openssl pkey -in "$IDENT/device.key.tmp" -pubout -out "$IDENT/device.pub.tmp"
  sync -f "$IDENT/device.key.tmp" 2>/dev/null || sync
  mv "$IDENT/device.pub.tmp" "$IDENT/device.pub"
  mv "$IDENT/device.key.tmp" "$IDENT/device.key"
fi

# SHA-256 of the DER public key: the id takes the first 6 bytes in hex, the
# claim code the next 5 bytes in Crockford base32 (no I, L, O, U: nothing to
# misread off a 5x8 LCD font), as XXXX-XXXX.
hash="$(openssl pkey -pubin -in "$IDENT/device.pub" -outform DER | sha256sum | cut -c1-64)"
device_id="pgw-${hash:0:12}"
alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ"
bits=$((16#${hash:12:10}))
code=""
for _ in 1 2 3 4 5 6 7 8; do
  code="${alphabet:$((bits & 31)):1}$code"
  bits=$((bits >> 5))
done
claim="${code:0:4}-${code:4:4}"

printf '%s\n' "$device_id" > "$IDENT/device-id"
# The gateway shows the claim code until the cloud says the box is claimed.
[ -e "$IDENT/claimed" ] || printf '%s\n' "$claim" > "$IDENT/claim-code"

if [ ! -s "$CONF/gateway.json" ]; then
  cat > "$CONF/gateway.json.tmp" <<JSON
{
  "device": {
    "id": "$device_id",
    "board": "$board",
    "admin": { "listen": "0.0.0.0:8080" }
  }
}
JSON
  mv "$CONF/gateway.json.tmp" "$CONF/gateway.json"
fi

echo "pgw first boot: device $device_id, board $board, claim code $claim"

if [ -c "$PANEL" ] || [ -p "$PANEL" ]; then
  [ -c "$PANEL" ] && stty -F "$PANEL" 115200 raw -echo 2>/dev/null || true
  # One command a line; the panel answers each with OK, which nobody reads here.
  timeout 5 bash -c 'printf "CLR\nTXT 0 CLAIM CODE\nTXT 1 %s\nTXT 2 Enter in portal\nTXT 3 %s\nLED amber blink\n" "$1" "$2" > "$3"' \
    _ "$claim" "$device_id" "$PANEL" || echo "pgw first boot: front panel did not take the claim code" >&2
fi
