#!/usr/bin/env bash
# How fast does `vaskem backup export` stream, and in how much memory? Makes an organisation with
# N stock movements (default 1,000,000) in a fresh PostgreSQL database, then times the export
# (rows/s, peak RSS by /usr/bin/time -v) and, in the same run, PostgreSQL's own
# `COPY (SELECT row_to_json(m) FROM stock_movements m WHERE tenant_id = …) TO STDOUT` of the
# same movements, R times each alternately (default 3), and prints the medians and their ratio.
# Goal (#13 point 6): peak RSS under 200 MB, export rate at least half of COPY's.
# Then (#13 point 7) it restores that file once as a new organisation (`vaskem backup restore`),
# timed the same way (rows/s over every restored row, peak RSS), and checks the restored
# organisation with `stock verify` and `audit verify`.
#
#   bash bench/backup.sh [N] [R]
#
# Needs psql and /usr/bin/time. PG_ADMIN_URL names the server (default
# postgres://postgres:postgres@127.0.0.1:5432/postgres); the database is dropped afterwards.
# Uses a release build (built here if missing); PROFILE=debug uses the debug build, VASKEM_BIN a
# binary of your choosing (nothing is built).
set -euo pipefail
movements=${1:-1000000}
rounds=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
admin=${PG_ADMIN_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
name="vaskem_bench_backup_$$"
url="${admin%/*}/$name"
work=$(mktemp -d)
trap 'psql -q "$admin" -c "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

profile=${PROFILE:-release}
if [ -n "${VASKEM_BIN:-}" ]; then
  vaskem=$VASKEM_BIN profile="given: $VASKEM_BIN"
else
  if [ "$profile" = release ]; then
    cargo build --quiet --release --manifest-path "$root/Cargo.toml" --bin vaskem
  else
    cargo build --quiet --manifest-path "$root/Cargo.toml" --bin vaskem
  fi
  vaskem="${CARGO_TARGET_DIR:-$root/target}/$profile/vaskem"
fi
export VASKEM_AUDIT_KEY_FILE="$work/audit.key" DATABASE_URL="$url" VASKEM_LOG=warn
"$vaskem" audit new-key >/dev/null
# The first use creates the backup key (a named key file must exist).
(cd "$work" && "$vaskem" backup public-key >/dev/null 2>&1)
export VASKEM_BACKUP_KEY_FILE="$work/vaskem-backup.key"
psql -q "$admin" -c "CREATE DATABASE $name" >/dev/null
VASKEM_PASSWORD_ROUNDS=10000 "$vaskem" demo >/dev/null
tenant=$(psql -qAt "$url" -c "SELECT id FROM organisations LIMIT 1")

# The movements, in one transaction that keeps the ledger's invariant (every balance is the sum
# of its movements): N receipts of one unit into one existing balance of an untracked product,
# and that balance raised by N. Ids are time-ordered like the service's UUIDv7.
seed_start=$(date +%s.%N)
psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null <<SQL
BEGIN;
CREATE TEMP TABLE target AS
  SELECT b.product_id, b.location_id FROM stock_balances b JOIN products p ON p.id = b.product_id
   WHERE b.tenant_id = '$tenant' AND b.lot_key = '00000000-0000-0000-0000-000000000000'
     AND p.tracking = 'none'
   ORDER BY b.product_id, b.location_id LIMIT 1;
INSERT INTO stock_movements (id, tenant_id, product_id, lot_id, quantity, from_place,
  from_location_id, to_place, to_location_id, reason, note, reverses_id, actor_user_id, created_at)
SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r, 1, 3) || '-8'
        || substr(r, 4, 3) || '-' || substr(r, 7, 12))::uuid,
       '$tenant', t.product_id, NULL, 1, 'adjustment', NULL, 'location', t.location_id,
       'found', 'bench movement ' || g, NULL, NULL, now()
  FROM target t, generate_series(1, $movements) g,
       LATERAL (SELECT lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint + g), 12, '0') AS h,
                       md5(g::text) AS r) ids;
UPDATE stock_balances b SET on_hand = on_hand + $movements, updated_at = now()
  FROM target t WHERE b.tenant_id = '$tenant' AND b.product_id = t.product_id
   AND b.location_id = t.location_id
   AND b.lot_key = '00000000-0000-0000-0000-000000000000';
COMMIT;
ANALYZE;
SQL
seed_end=$(date +%s.%N)
total=$(psql -qAt "$url" -c "SELECT count(*) FROM stock_movements WHERE tenant_id = '$tenant'")
printf 'seeded %s movements in %.1f s (organisation %s)\n' "$total" \
  "$(echo "$seed_end - $seed_start" | bc)" "$tenant"
"$vaskem" stock verify --org "$tenant" >/dev/null && echo "stock verify: balances agree"

seconds() { # elapsed seconds of `command…`, its output discarded
  local start end
  start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: >"$work/export.s"; : >"$work/copy.s"; : >"$work/rss.kb"
for round in $(seq 1 "$rounds"); do
  /usr/bin/time -v -o "$work/time.txt" "$vaskem" backup export --org "$tenant" \
    --out "$work/backup.json" >"$work/export.txt"
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
                for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt" >>"$work/export.s"
  awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt" >>"$work/rss.kb"
  seconds psql -qAt "$url" -c "COPY (SELECT row_to_json(m) FROM stock_movements m
    WHERE tenant_id = '$tenant') TO STDOUT" >>"$work/copy.s"
done
rows=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "rows") print $(i - 1) }' "$work/export.txt" | head -1)
bytes=$(stat -c %s "$work/backup.json")
verify_s=$(seconds "$vaskem" backup verify "$work/backup.json")
"$vaskem" backup verify "$work/backup.json" | cut -c1-100

/usr/bin/time -v -o "$work/restore-time.txt" "$vaskem" backup restore "$work/backup.json" \
  --name "Bench Restored" --slug "bench-restored-$$" >"$work/restored.id" 2>"$work/restore.txt"
restored=$(cat "$work/restored.id")
restore_s=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
              for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/restore-time.txt")
restore_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/restore-time.txt")
restored_rows=$(grep -o '[0-9]* rows' "$work/restore.txt" | head -1 | cut -d' ' -f1)
"$vaskem" stock verify --org "$restored" >/dev/null && echo "restored: stock verify: balances agree"
"$vaskem" audit verify --org "$restored" | cut -c1-60

export_s=$(median <"$work/export.s")
copy_s=$(median <"$work/copy.s")
rss_kb=$(sort -g "$work/rss.kb" | tail -1)
export_rate=$(echo "$rows / $export_s" | bc)
copy_rate=$(echo "$total / $copy_s" | bc)
printf '\n%s rounds, medians; release build unless PROFILE says otherwise (%s)\n' "$rounds" "$profile"
printf 'export   %8s rows  %6.2f s  %8s rows/s  peak RSS %s MB  file %s MB\n' \
  "$rows" "$export_s" "$export_rate" "$((rss_kb / 1024))" "$((bytes / 1048576))"
printf 'COPY     %8s rows  %6.2f s  %8s rows/s  (psql, row_to_json, to /dev/null)\n' \
  "$total" "$copy_s" "$copy_rate"
printf 'verify   %8s rows  %6.2f s  %8s rows/s\n' "$rows" "$verify_s" "$(echo "$rows / $verify_s" | bc)"
printf 'restore  %8s rows  %6.2f s  %8s rows/s  peak RSS %s MB  (one round)\n' "$restored_rows" \
  "$restore_s" "$(echo "$restored_rows / $restore_s" | bc)" "$((restore_kb / 1024))"
printf 'ratio export/COPY: %s\n' "$(echo "scale=2; $export_rate / $copy_rate" | bc)"
