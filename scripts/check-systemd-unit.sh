#!/usr/bin/env bash
# deploy/vaskem.service as systemd reads it: `systemd-analyze verify` finds nothing wrong, the
# hardening the README promises is there with the values it promises, and `systemd-analyze
# security` rates its exposure at most 1.5 (of 10; it prints the table and the score). Installs
# systemd's tools when missing. Runs without systemd as PID 1: it reads the unit, it does not
# start it.
set -euo pipefail
source "$(dirname "$0")/lib/edge.sh"
ensure_command systemd-analyze systemd
unit="$EDGE_ROOT/deploy/vaskem.service"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

binary=$(build_vaskem)
# verify wants the program to exist: the same unit, pointing at the binary just built.
sed "s|^ExecStart=/usr/local/bin/vaskem |ExecStart=$binary |" "$unit" >"$work/vaskem.service"
check "systemd-analyze verify: no complaint" bash -c "systemd-analyze verify '$work/vaskem.service' 2>&1 | tee '$work/verify.log'; [ ! -s '$work/verify.log' ]"

for directive in User=vaskem Group=vaskem StateDirectory=vaskem WorkingDirectory=/var/lib/vaskem \
  NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes CapabilityBoundingSet= \
  AmbientCapabilities= PrivateDevices=yes RestrictSUIDSGID=yes MemoryDenyWriteExecute=yes; do
  check "$directive" grep -qxF "$directive" "$unit"
done
check "no ReadWritePaths: the state directory is the only writable path" \
  bash -c "! grep -q '^ReadWritePaths=' '$unit'"
check "the sysusers entry makes the same user" grep -q '^u vaskem ' "$EDGE_ROOT/deploy/vaskem.sysusers"

systemd-analyze security --offline=yes "$unit" >"$work/security.txt" 2>&1 || true
score=$(grep -oE 'exposure level for vaskem.service: [0-9.]+ [A-Z]+' "$work/security.txt" || true)
grep -v '^✓' "$work/security.txt" | sed 's/^/    /'
check "systemd-analyze security: exposure at most 1.5 (${score##*: })" \
  bash -c "systemd-analyze security --offline=yes --threshold=15 '$unit' >/dev/null 2>&1"

echo "check-systemd-unit: $EDGE_FAILURES failed"
[ "$EDGE_FAILURES" -eq 0 ]
