#!/usr/bin/env bash
# Throughput and latency of the service on PostgreSQL against a hand-written baseline (issue #9,
# items 1, 2 and 7). Creates a fresh database (default vaskem_bench): 20 organisations x 5,000
# products x 2 stock balances at distinct locations; serves the release build over a login role
# in vaskem_app (the production path, row-level security on) and the baseline
# (bench/perf/baseline) over the same role; signs in one user per organisation; then drives each
# workload with wrk (32 connections, 5 s warm-up, 20 s measured, a random organisation per
# request):
#   W1  the first 50 products by SKU with their stock per location (w1.graphql)   + baseline
#   W2  one product by id                                                      + baseline
#   W3  adjustStock +1 on a random product (movement, balance, audit event)
#   W4  W1 while 4 clients sign in continuously (PBKDF2 at 600,000 rounds)
# and prints requests/s, p50, p99, CPU time per request of the server and of its PostgreSQL
# backends, and the service/baseline ratios (read those: the machine is shared and noisy).
#
#   bash bench/perf/run.sh [--memory | --profile]
#
# --memory then runs W1 until 1,000,000 requests more and prints the server's RSS before and
# after. --profile instead of measuring samples the server's CPU with perf (linux-perf; the
# cpu-clock event, which needs no hardware counters) under W1 and under W2 and prints the
# functions where it spent most of its time. Needs wrk (apt-get install -y wrk), curl, psql,
# python3 and a PostgreSQL superuser (PGHOST, PGPORT, PGUSER; default 127.0.0.1, 5432, postgres,
# trust or ~/.pgpass). The database BENCH_DB is dropped and recreated. DURATION, WARMUP,
# CONNECTIONS and THREADS override the wrk settings; PORT and BASELINE_PORT the ports (18491,
# 18492). W1 and W2 run ROUNDS times (default
# 3), service and baseline alternating, and each ratio is taken within a round: on a shared
# machine the load from elsewhere changes from minute to minute, and a ratio of two runs minutes
# apart measures that too. The summary gives the median of the rounds' ratios.
set -euo pipefail
memory=0
profile=0
case "${1:-}" in
  --memory) memory=1 ;;
  --profile) profile=1 ;;
  "") ;;
  *) echo "usage: bash bench/perf/run.sh [--memory | --profile]" >&2; exit 2 ;;
esac
if [ "$profile" = 1 ] && ! command -v perf >/dev/null; then
  echo "perf is missing: apt-get install -y linux-perf" >&2
  exit 1
fi
if ! command -v wrk >/dev/null; then
  echo "wrk is missing: apt-get install -y wrk" >&2
  exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
db=${BENCH_DB:-vaskem_bench}
port=${PORT:-18491}
baseline_port=${BASELINE_PORT:-18492}
duration=${DURATION:-20}
warmup=${WARMUP:-5}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
rounds=${ROUNDS:-3}
web_role=vaskem_bench_web
web_password=bench-web-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
owner_url="postgres://$pg_user@$pg_host:$pg_port/$db"
web_url="postgres://$web_role:$web_password@$pg_host:$pg_port/$db"
# Long enough for zxcvbn's strength check; the same for every bench user.
password="quietly stacking ninety crates beside harbour seven"
work=$(mktemp -d)
server=""
baseline=""
signers=()
cleanup() {
  for pid in "${signers[@]}" $server $baseline; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export PGHOST=$pg_host PGPORT=$pg_port PGUSER=$pg_user
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "building the release build and the baseline ..." >&2
cargo build --quiet --release --manifest-path "$root/Cargo.toml" --bin vaskem
CARGO_TARGET_DIR="$target/bench-baseline" \
  cargo build --quiet --release --manifest-path "$here/baseline/Cargo.toml"
vaskem="$target/release/vaskem"
baseline_bin="$target/bench-baseline/release/vaskem-bench-baseline"

echo "seeding $db ..." >&2
sql -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
"$vaskem" migrate --database-url "$owner_url" >/dev/null 2>"$work/migrate.log"
# Cluster-wide, like vaskem_app itself: created once, its password reset each run.
sql -d "$db" <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$web_role') THEN
    CREATE ROLE $web_role LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END \$\$;
ALTER ROLE $web_role PASSWORD '$web_password';
GRANT vaskem_app TO $web_role;
SQL
export VASKEM_AUDIT_KEY_FILE="$work/audit.key"
"$vaskem" audit new-key >/dev/null
export VASKEM_ADMIN_PASSWORD=$password VASKEM_PASSWORD_ROUNDS=600000
# org-N carry the data; signin-N are the W4 sign-ins, apart so their sessions cannot disturb
# the W1 sessions.
for org in org-{1..20} signin-{1..4}; do
  "$vaskem" org create --database-url "$owner_url" --name "Bench $org" --slug "$org" \
    --admin-email "admin@$org.example" >/dev/null 2>>"$work/org.log"
done
sql -d "$db" -f "$here/seed.sql"

"$vaskem" serve --database-url "$web_url" --listen "127.0.0.1:$port" \
  >"$work/server.out" 2>"$work/server.err" &
server=$!
BASELINE_DATABASE_URL=$web_url BASELINE_LISTEN=127.0.0.1:$baseline_port "$baseline_bin" \
  >"$work/baseline.out" 2>&1 &
baseline=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$work/server.err" >&2; exit 1; }

login_body() {
  printf '{"query":"mutation($o:String!,$e:String!,$p:String!){login(input:{organisation:$o,email:$e,password:$p}){user{id}}}","variables":{"o":"%s","e":"admin@%s.example","p":"%s"}}' "$1" "$1" "$password"
}
echo "signing in to 20 organisations ..." >&2
for org in org-{1..20}; do
  curl -fs -c "$work/jar.$org" -o /dev/null -H 'Content-Type: application/json' \
    "http://127.0.0.1:$port/graphql" -d "$(login_body "$org")"
  # The Secure cookie is not sent back over plain HTTP by curl's jar; read it and send it by hand.
  printf '%s %s\n' "$org" "$(awk '$6 == "__Host-vaskem_session" {print $7}' "$work/jar.$org")"
done >"$work/cookies"
# 200 products per organisation (every 25th SKU), each with one of its locations.
sql -d "$db" -At -F ' ' >"$work/items" <<'SQL'
SELECT o.slug, o.id, p.id, min(b.location_id::text)
FROM organisations o
JOIN products p ON p.tenant_id = o.id
JOIN stock_balances b ON b.tenant_id = p.tenant_id AND b.product_id = p.id
WHERE o.slug ~ '^org-' AND substring(p.sku FROM 5)::int % 25 = 1
GROUP BY 1, 2, 3 ORDER BY 1, 3
SQL
export BENCH_DATA="$work/data.lua" BENCH_LUA="$here/wrk"
python3 - "$work" "$here/w1.graphql" <<'PY'
import base64, json, sys
work, w1 = sys.argv[1], sys.argv[2]
gid = lambda t, u: base64.urlsafe_b64encode(f"{t}:{u}".encode()).decode().rstrip("=")
cookies = dict(line.split() for line in open(f"{work}/cookies"))
orgs = {}
for line in open(f"{work}/items"):
    slug, tenant, product, location = line.split()
    org = orgs.setdefault(slug, {"tenant": tenant, "cookie": cookies[slug], "items": []})
    org["items"].append((gid("Product", product), gid("Location", location)))
body = json.dumps({"operationName": "W1", "query": open(w1).read()})
with open(f"{work}/data.lua", "w") as out:
    out.write(f"w1_body = [==[{body}]==]\norgs = {{\n")
    for slug, org in sorted(orgs.items()):
        items = ",".join(f'{{"{p}","{l}"}}' for p, l in org["items"])
        out.write(f'  {{ slug = "{slug}", tenant = "{org["tenant"]}", cookie = "{org["cookie"]}",'
                  f" items = {{{items}}} }},\n")
    out.write("}\n")
json.dump(orgs, open(f"{work}/data.json", "w"))
PY

# One request of each kind first: the service answers without errors, and W1 and W2 answer the
# same JSON from the service and the baseline.
python3 - "$work" "$here/w1.graphql" "$port" "$baseline_port" <<'PY'
import json, sys, urllib.request
work, w1, port, bport = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
org = json.load(open(f"{work}/data.json"))["org-1"]
def post(p, body):
    req = urllib.request.Request(f"http://127.0.0.1:{p}/graphql", json.dumps(body).encode(), {
        "Content-Type": "application/json", "X-Tenant": org["tenant"],
        "Cookie": "__Host-vaskem_session=" + org["cookie"]})
    return json.load(urllib.request.urlopen(req))
product, location = org["items"][3]
w2 = "query W2($id: ID!) { product(id: $id) { id sku name } }"
for name, body in [("W1", {"operationName": "W1", "query": w1}),
                   ("W2", {"operationName": "W2", "query": w2, "variables": {"id": product}})]:
    service, base = post(port, body), post(bport, body)
    if "errors" in service or service != base:
        sys.exit(f"{name}: the service and the baseline disagree:\n{service}\n{base}")
w3 = ('mutation W3($p: ID!, $l: ID!) { adjustStock(input: {productId: $p, locationId: $l, '
      'change: 1, reason: "found"}) { movements { id } userErrors { message } } }')
answer = post(port, {"operationName": "W3", "query": w3, "variables": {"p": product, "l": location}})
if "errors" in answer or answer["data"]["adjustStock"]["userErrors"]:
    sys.exit(f"W3 failed: {answer}")
n = post(port, {"operationName": "W1", "query": w1})["data"]["products"]["nodes"]
print(f"checked: W1 and W2 agree with the baseline ({len(n)} products, "
      f"{sum(len(p['balances']) for p in n)} balances); W3 moves stock", file=sys.stderr)
PY

# Writes to $2 the CPU ticks so far of the process $1 and of each PostgreSQL backend serving the
# bench database (other databases on the cluster, and its background processes, are left out; a
# backend that exits between two snapshots loses its share, one that starts counts in full).
cpu() {
  python3 - "$1" "$web_role $db " "$2" <<'PY'
import json, os, sys
def ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
pg = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if sys.argv[2] in open(f"/proc/{pid}/cmdline").read().replace("\0", " "):
            pg[pid] = ticks(pid)
    except OSError:
        pass
json.dump({"server": ticks(sys.argv[1]), "pg": pg}, open(sys.argv[3], "w"))
PY
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# measure NAME PORT PID SCRIPT: warm up, then measure; appends a line to $work/results.
measure() {
  local name=$1 at=$2 pid=$3 script=$4
  echo "$name: ${warmup}s warm-up, ${duration}s measured ..." >&2
  wrk -t"$threads" -c"$connections" -d"${warmup}s" -s "$here/wrk/$script" "http://127.0.0.1:$at" >/dev/null
  local result tag=${name// /-}
  cpu "$pid" "$work/cpu.$tag.before"
  [ -n "${signins:-}" ] && cat "$work"/signins.* 2>/dev/null | { grep -c "^200$" || true; } >"$work/signins.before"
  result=$(wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$here/wrk/$script" \
    "http://127.0.0.1:$at" | awk '/^RESULT/ {print $2, $3, $4, $5, $6}')
  cpu "$pid" "$work/cpu.$tag.after"
  local extra="-"
  if [ -n "${signins:-}" ]; then
    extra=$(( $(cat "$work"/signins.* | { grep -c "^200$" || true; }) - $(cat "$work/signins.before") ))
  fi
  echo "$name $result $work/cpu.$tag.before $work/cpu.$tag.after $extra" >>"$work/results"
}

if [ "$profile" = 1 ]; then
  for workload in w1 w2; do
    echo "profiling the server under ${workload^^}: ${warmup}s warm-up, ${duration}s sampled ..." >&2
    wrk -t"$threads" -c"$connections" -d"${warmup}s" -s "$here/wrk/$workload.lua" "http://127.0.0.1:$port" >/dev/null
    perf record -q -e cpu-clock -F 999 -p "$server" -o "$work/perf.$workload" -- sleep "$duration" 2>/dev/null &
    recorder=$!
    wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$here/wrk/$workload.lua" "http://127.0.0.1:$port" >/dev/null
    wait "$recorder" || true
    echo "== ${workload^^}: the server's CPU time by function (self time, top 40) =="
    # sed, not head: head would close the pipe early, and pipefail would stop the script.
    perf report -i "$work/perf.$workload" --no-children --sort dso,symbol --stdio 2>/dev/null |
      grep -v '^#' | grep -v '^$' | cut -c1-180 | sed 's/ *$//' | sed -n '1,40p'
  done
  exit 0
fi

: >"$work/results"
for round in $(seq 1 "$rounds"); do
  measure "W1 service r$round" "$port" "$server" w1.lua
  measure "W1 baseline r$round" "$baseline_port" "$baseline" w1.lua
  measure "W2 service r$round" "$port" "$server" w2.lua
  measure "W2 baseline r$round" "$baseline_port" "$baseline" w2.lua
done
measure "W3 service r1" "$port" "$server" w3.lua
for k in 1 2 3 4; do
  ( while :; do
      curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
        "http://127.0.0.1:$port/graphql" -d "$(login_body "signin-$k")"
    done >"$work/signins.$k" ) &
  signers+=($!)
done
signins=1 measure "W4 service r1" "$port" "$server" w1.lua
for pid in "${signers[@]}"; do kill "$pid" 2>/dev/null || true; done
signers=()
if grep -qv '^200$' "$work"/signins.*; then
  echo "W4 sign-in answers (HTTP status: count): $(cat "$work"/signins.* | sort | uniq -c | xargs)" >&2
fi

python3 - "$work/results" "$(getconf CLK_TCK)" <<'PY'
import json, statistics, sys
rows, tck = {}, int(sys.argv[2])
for line in open(sys.argv[1]):
    w, who, rnd, n, us, p50, p99, errors, before, after, extra = line.split()
    n, before, after = int(n), json.load(open(before)), json.load(open(after))
    pg = sum(t - before["pg"].get(pid, 0) for pid, t in after["pg"].items())
    rows[(w, who, rnd)] = dict(rps=n / (int(us) / 1e6), p50=int(p50) / 1000, p99=int(p99) / 1000,
        n=n, errors=int(errors), server=(after["server"] - before["server"]) / tck / n * 1e6,
        pg=pg / tck / n * 1e6, signins=extra)
def ratios(r, base):
    return dict(rps=r["rps"] / base["rps"], p50=r["p50"] / base["p50"], p99=r["p99"] / base["p99"],
                cpu=(r["server"] + r["pg"]) / (base["server"] + base["pg"]))
print(f"{'workload':<17}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'server us':>11}{'pg us':>9}"
      f"{'requests':>10}{'errors':>8}   service/baseline: req/s  p50  p99  server+pg CPU")
per_workload = {}
for (w, who, rnd), r in rows.items():
    # W4 is W1 under sign-ins: its ratios are against the median W1 baseline round.
    ratio = ""
    if who == "service":
        if w == "W4":
            bases = [b for (bw, bwho, _), b in rows.items() if bw == "W1" and bwho == "baseline"]
            base = sorted(bases, key=lambda b: b["rps"])[len(bases) // 2] if bases else None
        else:
            base = rows.get((w, "baseline", rnd))
        if base:
            q = ratios(r, base)
            per_workload.setdefault(w, []).append(q)
            ratio = f"{q['rps']:>26.2f} {q['p50']:>4.1f} {q['p99']:>4.1f} {q['cpu']:>8.1f}"
    if w == "W4":
        ratio += f"   ({r['signins']} sign-ins meanwhile; against the median W1 baseline)"
    print(f"{w + ' ' + who + ' ' + rnd:<17}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
          f"{r['server']:>11.0f}{r['pg']:>9.0f}{r['n']:>10}{r['errors']:>8}{ratio}")
print("server us / pg us: CPU microseconds per request of the server process / of the PostgreSQL "
      "backends of the bench database")
print("median over rounds of the service/baseline ratios:")
for w, qs in per_workload.items():
    med = {k: statistics.median(q[k] for q in qs) for k in ("rps", "p50", "p99", "cpu")}
    print(f"  {w}: req/s {med['rps']:.2f}  p50 {med['p50']:.1f}  p99 {med['p99']:.1f}  "
          f"server+pg CPU {med['cpu']:.1f}  ({len(qs)} round{'s' if len(qs) > 1 else ''})")
w1_p99 = statistics.median(r["p99"] for (w, who, _), r in rows.items() if (w, who) == ("W1", "service"))
w4 = [r for (w, _, _), r in rows.items() if w == "W4"]
if w4:
    print(f"  W4 p99 / W1 p99 (service, median W1 round): {w4[0]['p99'] / w1_p99:.2f}")
w3 = [r for (w, _, _), r in rows.items() if w == "W3"]
if w3:
    print(f"  W3: {w3[0]['rps']:.0f} adjustments/s, p99 {w3[0]['p99']:.1f} ms")
PY

if [ "$memory" = 1 ]; then
  echo "memory: W1 until 1,000,000 requests ..." >&2
  wrk -t"$threads" -c"$connections" -d"${warmup}s" -s "$here/wrk/w1.lua" "http://127.0.0.1:$port" >/dev/null
  start=$(rss_kib "$server")
  total=0
  while [ "$total" -lt 1000000 ]; do
    n=$(wrk -t"$threads" -c"$connections" -d60s -s "$here/wrk/w1.lua" "http://127.0.0.1:$port" |
      awk '/^RESULT/ {print $2}')
    total=$((total + n))
    echo "  $total requests, RSS $(( $(rss_kib "$server") / 1024 )) MiB" >&2
  done
  echo "RSS under W1: $((start / 1024)) MiB after the warm-up, $(( $(rss_kib "$server") / 1024 )) MiB after $total more requests"
fi
