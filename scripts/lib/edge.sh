# Shared by the scripts that try the service's HTTP edge with real tools (check-nginx.sh,
# scan-tls.sh): installing what they need, a throwaway certificate, the service and nginx in a
# scratch directory, and checks that count their failures. Source it; it defines functions only.

EDGE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EDGE_FAILURES=0
EDGE_PIDS=()
EDGE_NGINX_CONFS=()

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_command COMMAND DEBIAN-PACKAGE: installs the package when the command is missing.
ensure_command() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing $2 (for $1)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null
  command -v "$1" >/dev/null 2>&1 || { echo "could not install $2" >&2; exit 1; }
}

# scratch_dir: makes the scratch directory everything runs in (EDGE_WORK) and sets the EXIT trap
# that stops what was started and removes it.
scratch_dir() {
  EDGE_WORK=$(mktemp -d)
  chmod 755 "$EDGE_WORK"  # nginx's workers run as another user
  trap 'stop_everything; rm -rf "$EDGE_WORK"' EXIT
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_certificate DIR [rsa]: a self-signed certificate for wms.example (and localhost,
# 127.0.0.1), valid for two days: ECDSA P-256 in DIR/cert.pem and DIR/key.pem, or RSA 2048 in
# DIR/rsa-cert.pem and DIR/rsa-key.pem.
make_certificate() {
  local prefix="" key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
  if [ "${2:-}" = rsa ]; then
    prefix="rsa-"
    key=(-newkey rsa:2048)
  fi
  openssl req -x509 "${key[@]}" -nodes -days 2 -subj "/CN=wms.example" \
    -addext "subjectAltName=DNS:wms.example,DNS:localhost,IP:127.0.0.1" \
    -keyout "$1/${prefix}key.pem" -out "$1/${prefix}cert.pem" 2>/dev/null
  chmod 600 "$1/${prefix}key.pem"
}

# build_vaskem: builds the binary (debug, as the tests do) and prints its path.
build_vaskem() {
  cargo build --quiet --manifest-path "$EDGE_ROOT/Cargo.toml" --bin vaskem >&2
  local target
  target=$(cargo metadata --quiet --format-version 1 --no-deps --manifest-path "$EDGE_ROOT/Cargo.toml" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  echo "$target/debug/vaskem"
}

# start_vaskem BINARY DIR PORT [SERVE-FLAG…]: `vaskem serve` on a fresh SQLite database in DIR,
# listening on 127.0.0.1:PORT; waits for the demo login it prints at first start and sets
# DEMO_ORGANISATION, DEMO_EMAIL and DEMO_PASSWORD. Its output is in DIR/vaskem.out and .err.
start_vaskem() {
  local binary=$1 dir=$2 port=$3
  shift 3
  (cd "$dir" && VASKEM_PASSWORD_ROUNDS=1000 \
    DATABASE_URL="sqlite://$dir/vaskem.db?mode=rwc" \
    exec "$binary" serve --listen "127.0.0.1:$port" "$@" >"$dir/vaskem.out" 2>"$dir/vaskem.err") &
  EDGE_PIDS+=($!)
  for _ in $(seq 1 120); do
    grep -q 'password:' "$dir/vaskem.out" 2>/dev/null && break
    sleep 0.5
  done
  DEMO_ORGANISATION=$(awk '/organisation:/ {print $2}' "$dir/vaskem.out")
  DEMO_EMAIL=$(awk '/email:/ {print $2}' "$dir/vaskem.out")
  DEMO_PASSWORD=$(awk '/password:/ {print $2}' "$dir/vaskem.out")
  if [ -z "$DEMO_PASSWORD" ]; then
    echo "vaskem did not start; its log:" >&2
    cat "$dir/vaskem.err" >&2
    exit 1
  fi
}

# start_nginx DIR HTTP-PORT HTTPS-PORT UPSTREAM-PORT [CERT KEY [SED-EXPRESSION]]:
# deploy/nginx.conf as it is committed, with only its marked ports and certificate paths changed
# (DIR/cert.pem and DIR/key.pem unless given), run by a private nginx master in
# DIR/nginx-HTTPS-PORT. SED-EXPRESSION changes it further (the scan's deliberately weak control).
start_nginx() {
  local dir=$1 http=$2 https=$3 upstream=$4 cert=${5:-$1/cert.pem} key=${6:-$1/key.pem}
  local edit=${7:-}
  local home="$dir/nginx-$https"
  mkdir -p "$home/tmp"
  local site="$home/site.conf"
  sed -e "s|server 127.0.0.1:8080;  # check-nginx: upstream|server 127.0.0.1:$upstream;|" \
    -e "s|listen 80;       # check-nginx: http\$|listen 127.0.0.1:$http;|" \
    -e "s|listen \[::\]:80;  # check-nginx: http6|# (no IPv6 in the check)|" \
    -e "s|listen 443 ssl http2;       # check-nginx: https\$|listen 127.0.0.1:$https ssl http2;|" \
    -e "s|listen \[::\]:443 ssl http2;  # check-nginx: https6|# (no IPv6 in the check)|" \
    -e "s|/etc/ssl/vaskem/fullchain.pem;  # check-nginx: certificate|$cert;|" \
    -e "s|/etc/ssl/vaskem/privkey.pem;    # check-nginx: key|$key;|" \
    -e "${edit:-s|^||}" \
    "$EDGE_ROOT/deploy/nginx.conf" >"$site"
  if grep -qE "# check-nginx: [a-z0-9]+$" "$site"; then
    echo "deploy/nginx.conf changed a line the check edits:" >&2
    grep -nE "# check-nginx: [a-z0-9]+$" "$site" >&2
    exit 1
  fi
  local user_line=""
  if [ "$(id -u)" -eq 0 ]; then
    # Workers drop to Debian's nginx user, as in a packaged install.
    user_line="user www-data;"
    chown -R www-data "$home/tmp"
  fi
  cat >"$home/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $home/nginx.pid;
error_log $home/error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log $home/access.log;
    client_body_temp_path $home/tmp/body;
    proxy_temp_path $home/tmp/proxy;
    fastcgi_temp_path $home/tmp/fastcgi;
    uwsgi_temp_path $home/tmp/uwsgi;
    scgi_temp_path $home/tmp/scgi;
    include $site;
}
CONF
  nginx -e "$home/error.log" -t -q -c "$home/nginx.conf"
  nginx -e "$home/error.log" -c "$home/nginx.conf"
  EDGE_NGINX_CONFS+=("$home/nginx.conf")
  for _ in $(seq 1 50); do
    [ -s "$home/nginx.pid" ] && return 0
    sleep 0.1
  done
  echo "nginx did not start:" >&2
  cat "$home/error.log" >&2
  exit 1
}

# stop_everything: the trap every script sets.
stop_everything() {
  for conf in "${EDGE_NGINX_CONFS[@]}"; do
    nginx -e /dev/null -s quit -c "$conf" 2>/dev/null || true
  done
  for pid in "${EDGE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

# check DESCRIPTION COMMAND…: runs the command; says ok or FAIL, and counts failures.
check() {
  local description=$1
  shift
  if "$@"; then
    printf '  ok    %s\n' "$description"
  else
    printf '  FAIL  %s\n' "$description"
    EDGE_FAILURES=$((EDGE_FAILURES + 1))
  fi
}

# header FILE NAME: the values of header NAME in a curl -D dump, one per line.
header() {
  tr -d '\r' <"$1" | awk -v name="$(echo "$2" | tr 'A-Z' 'a-z')" -F': ' \
    'tolower($1) == name { sub(/^[^:]*: /, ""); print }'
}

# status FILE: the status code of the last response in a curl -D dump.
status() {
  tr -d '\r' <"$1" | awk '/^HTTP\// {code = $2} END {print code}'
}

# equals EXPECTED ACTUAL: for check, printing the difference when there is one.
equals() {
  [ "$1" = "$2" ] && return 0
  printf '        expected: %s\n        got:      %s\n' "$1" "$2"
  return 1
}

# json_field FILE EXPRESSION: a value from a JSON file (a Python expression over `d`).
json_field() {
  python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}
