#!/usr/bin/env bash
# Starts VasKem over its built-in HTTPS (a throwaway certificate for wms.example, which Chromium
# is told to trust by its key alone) with the plain-HTTP redirect beside it, then in headless
# Chromium: opens the plain-HTTP address, follows the redirect, signs in through GraphiQL with the
# demo login printed at first start, runs a query, and fails on any script error, CSP refusal,
# failed request or request leaving the origin. Saves a screenshot. Installs Debian's chromium
# and the pinned playwright-core (npm) when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/lib/edge.sh"
ensure_command chromium chromium
ensure_command openssl openssl
ensure_command npm npm
[ -d "$here/node_modules/playwright-core" ] || npm --prefix "$here" install --no-audit --no-fund >/dev/null
scratch_dir
work=$EDGE_WORK
binary=$(build_vaskem)
make_certificate "$work"
port=$(free_port)
redirect_port=$(free_port)
start_vaskem "$binary" "$work" "$port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
  --redirect-http "127.0.0.1:$redirect_port" --public-url "https://wms.example:$port"
# Chromium trusts this certificate's key and nothing else it would otherwise refuse.
spki=$(openssl x509 -in "$work/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)
SPKI="$spki" node "$here/graphiql.mjs" "https://wms.example:$port" "http://wms.example:$redirect_port" \
  "$DEMO_ORGANISATION" "$DEMO_EMAIL" "$DEMO_PASSWORD" "${SCREENSHOT:-$here/graphiql.png}"
