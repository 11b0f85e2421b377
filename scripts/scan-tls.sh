#!/usr/bin/env bash
# Scans the built-in TLS listener (vaskem serve --tls-cert/--tls-key) and nginx running
# deploy/nginx.conf with testssl.sh (Debian's package, installed when missing), each with an
# ECDSA and an RSA certificate, and fails unless exactly TLS 1.2 and 1.3 are offered, each with at
# least one suite and only suites of Mozilla's "intermediate" profile. A deliberately weakened
# nginx (one CBC suite without forward secrecy added) is scanned too and must fail the same
# rules, so a scanner that saw nothing could not pass. Prints one summary line per endpoint.
set -euo pipefail
source "$(dirname "$0")/lib/edge.sh"
started=$(date +%s)

ensure_command testssl testssl.sh
ensure_command nginx nginx
ensure_command openssl openssl

scratch_dir
work=$EDGE_WORK
binary=$(build_vaskem)
make_certificate "$work"
make_certificate "$work" rsa

# Built-in TLS, one process per certificate type.
builtin_ec=$(free_port)
mkdir -p "$work/ec" "$work/rsa"
start_vaskem "$binary" "$work/ec" "$builtin_ec" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
builtin_rsa=$(free_port)
start_vaskem "$binary" "$work/rsa" "$builtin_rsa" --tls-cert "$work/rsa-cert.pem" --tls-key "$work/rsa-key.pem"
# nginx in front of a plain-HTTP service.
upstream=$(free_port)
mkdir -p "$work/upstream"
start_vaskem "$binary" "$work/upstream" "$upstream" --trust-proxy 127.0.0.1
nginx_ec=$(free_port)
start_nginx "$work" "$(free_port)" "$nginx_ec" "$upstream"
nginx_rsa=$(free_port)
start_nginx "$work" "$(free_port)" "$nginx_rsa" "$upstream" "$work/rsa-cert.pem" "$work/rsa-key.pem"
weak=$(free_port)
start_nginx "$work" "$(free_port)" "$weak" "$upstream" "$work/rsa-cert.pem" "$work/rsa-key.pem" \
  's|^\( *ssl_ciphers [^;]*\);|\1:AES128-SHA;|'

# judge JSON: exit 0 if the scan shows only TLS 1.2 and 1.3 with intermediate suites; prints
# the summary either way.
judge() {
  python3 - "$1" <<'PY'
import json, sys

# Mozilla's intermediate profile (v5.7), by IANA code as testssl.sh reports them.
INTERMEDIATE = {
    "tls1_3": {"x1301", "x1302", "x1303"},
    "tls1_2": {"xc02b", "xc02f", "xc02c", "xc030", "xcca9", "xcca8", "x9e", "x9f", "xccaa"},
}
findings = json.load(open(sys.argv[1]))
by_id = {f["id"]: f["finding"] for f in findings}
problems = []
for protocol in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    if not by_id.get(protocol, "").startswith("not offered"):
        problems.append(f"{protocol}: {by_id.get(protocol, 'not tested')}")
for protocol in ("TLS1_2", "TLS1_3"):
    if not by_id.get(protocol, "").startswith("offered"):
        problems.append(f"{protocol}: {by_id.get(protocol, 'not tested')}")
offered = {"tls1_2": [], "tls1_3": []}
for f in findings:
    if not f["id"].startswith("cipher-"):
        continue
    protocol, code = f["id"][len("cipher-"):].rsplit("_", 1)
    name = f["finding"].split()[-1]
    if code not in INTERMEDIATE.get(protocol, set()):
        problems.append(f"{protocol} offers {name} ({code}), not in the intermediate profile")
    offered.setdefault(protocol, []).append(name)
for protocol in ("tls1_2", "tls1_3"):
    if not offered[protocol]:
        problems.append(f"{protocol}: no suite found")
suites = "; ".join(f"{p.replace('tls1_', 'TLS 1.')}: {', '.join(n)}" for p, n in offered.items() if n)
print(f"      {suites}")
for problem in problems:
    print(f"      problem: {problem}")
sys.exit(1 if problems else 0)
PY
}

# scan NAME PORT: testssl.sh's protocol and per-protocol cipher tests; the JSON in $work/NAME.json.
scan() {
  testssl --quiet --color 0 --warnings off --protocols --cipher-per-proto \
    --jsonfile "$work/$1.json" "127.0.0.1:$2" >"$work/$1.txt" 2>&1 || true
  [ -s "$work/$1.json" ] || { echo "testssl.sh made no report for $1:"; cat "$work/$1.txt"; return 1; }
}

echo "testssl.sh $(testssl --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -1)"
for endpoint in "built-in-ecdsa $builtin_ec" "built-in-rsa $builtin_rsa" "nginx-ecdsa $nginx_ec" "nginx-rsa $nginx_rsa"; do
  read -r name port <<<"$endpoint"
  check "$name: only TLS 1.2 and 1.3, intermediate suites" bash -c "$(declare -f scan judge); work=$work; scan $name $port && judge $work/$name.json"
done
weak_rejected() {
  scan weak-control "$weak" || return 1
  ! judge "$work/weak-control.json"
}
check "control: nginx with a weak suite added fails these rules" weak_rejected

echo "scan-tls: $EDGE_FAILURES failed, $(($(date +%s) - started)) s"
[ "$EDGE_FAILURES" -eq 0 ]
