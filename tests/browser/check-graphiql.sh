#!/usr/bin/env bash
# Starts VasKem on a fresh SQLite file, signs in through GraphiQL in headless Chromium with the
# demo login printed at first start, and saves a screenshot. Needs Debian's chromium and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
command -v chromium >/dev/null || { echo "install chromium first: apt-get install -y chromium" >&2; exit 1; }
[ -d "$here/node_modules/playwright-core" ] || npm --prefix "$here" install --no-audit --no-fund >/dev/null
cargo build --quiet --manifest-path "$here/../../Cargo.toml" --bin vaskem
binary="$here/../../target/debug/vaskem"
port=${PORT:-18181}
(cd "$work" && VASKEM_PASSWORD_ROUNDS=${VASKEM_PASSWORD_ROUNDS:-600000} \
  exec "$binary" serve --listen "127.0.0.1:$port" >"$work/out.log" 2>"$work/err.log") &
server=$!
for _ in $(seq 1 60); do grep -q 'password:' "$work/out.log" 2>/dev/null && break; sleep 1; done
organisation=$(awk '/organisation:/ {print $2}' "$work/out.log")
email=$(awk '/email:/ {print $2}' "$work/out.log")
password=$(awk '/password:/ {print $2}' "$work/out.log")
for _ in $(seq 1 30); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
node "$here/graphiql.mjs" "http://127.0.0.1:$port" "$organisation" "$email" "$password" "${SCREENSHOT:-$here/graphiql.png}"
