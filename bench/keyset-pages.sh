#!/usr/bin/env bash
# Does a page deep in a long list cost what the first page costs? Seeds N products (default
# 200,000) into one organisation of a fresh SQLite database, then times `products(first: 50)` from
# the start (the baseline) and from a cursor near the end, R times each, and prints the medians and
# their ratio. Keyset paging should keep the ratio near 1; OFFSET paging would grow with the depth.
#
#   bash bench/keyset-pages.sh [N] [R]
#
# Needs curl, sqlite3 and python3. Uses a release build (built here if missing); PROFILE=debug
# uses the debug build instead (slower, but the ratio is what counts).
set -euo pipefail
products=${1:-200000}
rounds=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
port=${PORT:-18481}
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

profile=${PROFILE:-release}
if [ "$profile" = release ]; then
  cargo build --quiet --release --manifest-path "$root/Cargo.toml" --bin vaskem
else
  cargo build --quiet --manifest-path "$root/Cargo.toml" --bin vaskem
fi
vaskem="${CARGO_TARGET_DIR:-$root/target}/$profile/vaskem"
db="$work/bench.db"
url="sqlite://$db?mode=rwc"
export VASKEM_AUDIT_KEY_FILE="$work/audit.key"
"$vaskem" audit new-key >/dev/null

demo=$(VASKEM_PASSWORD_ROUNDS=10000 "$vaskem" demo --database-url "$url")
organisation=$(awk '/organisation:/ {print $2}' <<<"$demo")
password=$(awk '/password:/ {print $2}' <<<"$demo")
tenant=$(sqlite3 "$db" "SELECT hex(tenant_id) FROM products LIMIT 1")
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000000+00:00)
sqlite3 "$db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $products)
INSERT INTO products (id, tenant_id, sku, name, description, base_unit, tracking,
  expiry_required, reorder_point, reorder_quantity, is_active, created_at, updated_at)
SELECT randomblob(16), X'$tenant', printf('BENCH-%07d', i), 'Bench product ' || i, '', 'each',
  'none', 0, 0, 0, 1, '$now', '$now' FROM n;
ANALYZE;
SQL

VASKEM_PASSWORD_ROUNDS=10000 "$vaskem" serve --database-url "$url" --listen "127.0.0.1:$port" \
  >"$work/out.log" 2>"$work/err.log" &
server=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

graphql() {
  curl -fs -b "$work/jar" -c "$work/jar" -H 'Content-Type: application/json' \
    -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/graphql" -d "$1"
}
graphql "{\"query\":\"mutation(\$o:String!,\$e:String!,\$p:String!){login(input:{organisation:\$o,email:\$e,password:\$p}){user{email}}}\",\"variables\":{\"o\":\"$organisation\",\"e\":\"admin@demo.vaskem.example\",\"p\":\"$password\"}}" >/dev/null
# The Secure cookie is not sent back over plain HTTP by curl's jar; send it by hand.
cookie=$(awk '$6 == "__Host-vaskem_session" {print $7}' "$work/jar")
graphql() {
  curl -fs -H "Cookie: __Host-vaskem_session=$cookie" -H 'Content-Type: application/json' \
    -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/graphql" -d "$1"
}

# A cursor is just a position: the one of the row 50 before the end.
deep_sku=$(printf 'BENCH-%07d' $((products - 50)))
deep_id=$(sqlite3 "$db" "SELECT lower(hex(id)) FROM products WHERE sku = '$deep_sku'")
cursor=$(python3 - "$deep_sku" "$deep_id" <<'PY'
import base64, json, sys
sku, raw = sys.argv[1], sys.argv[2]
uuid = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
data = json.dumps({"o": "products:sku,id+", "k": [{"s": sku}, {"u": uuid}]}, separators=(",", ":"))
print(base64.urlsafe_b64encode(data.encode()).decode().rstrip("="))
PY
)
first='{"query":"{ products(first: 50) { nodes { sku } } }"}'
deep="{\"query\":\"query(\$a:String){ products(first: 50, after: \$a) { nodes { sku } } }\",\"variables\":{\"a\":\"$cursor\"}}"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for _ in 1 2 3; do graphql "$first" >/dev/null; graphql "$deep" >/dev/null; done
first_times=$(for _ in $(seq "$rounds"); do graphql "$first"; done | median)
deep_times=$(for _ in $(seq "$rounds"); do graphql "$deep"; done | median)
python3 - "$products" "$rounds" "$first_times" "$deep_times" <<'PY'
import sys
n, rounds, first, deep = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"{n} products, {rounds} requests each (median seconds):")
print(f"  first page (baseline)        {first:.4f}")
print(f"  page {n - 50} rows deep   {deep:.4f}")
print(f"  ratio deep / first           {deep / first:.2f}")
PY
