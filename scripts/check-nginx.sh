#!/usr/bin/env bash
# The service behind a real nginx running deploy/nginx.conf, as an operator deploys it: a
# throwaway self-signed certificate, the service on loopback trusting only nginx, then from the
# outside with curl: the HTTP-to-HTTPS redirect, the API refused over plain HTTP, every security
# header exactly once (nginx's own errors included), a sign-in and a query, and that a client's
# forged X-Forwarded-For and X-Forwarded-Proto reach neither the lockout counter nor the audit
# log. Installs nginx (Debian's package), openssl and curl when missing. Exit 0 only if all pass.
set -euo pipefail
source "$(dirname "$0")/lib/edge.sh"
started=$(date +%s)

ensure_command nginx nginx
ensure_command openssl openssl
ensure_command curl curl

scratch_dir
work=$EDGE_WORK
binary=$(build_vaskem)
make_certificate "$work"
app_port=$(free_port)
http_port=$(free_port)
https_port=$(free_port)
# A low per-client limit, and a high per-account one, so that the lockout seen is the client's.
start_vaskem "$binary" "$work" "$app_port" --trust-proxy 127.0.0.1 \
  --login-max-failures-per-client 3 --login-max-failures-per-account 100 --login-slowdown-ms 0
start_nginx "$work" "$http_port" "$https_port" "$app_port"
echo "nginx $(nginx -v 2>&1 | sed 's|.*/||') on :$http_port (HTTP) and :$https_port (HTTPS), VasKem on :$app_port"

plain_curl() { curl -sS --resolve "wms.example:$http_port:127.0.0.1" "$@"; }
tls_curl() { curl -sS --resolve "wms.example:$https_port:127.0.0.1" --cacert "$work/cert.pem" "$@"; }
plain="http://wms.example:$http_port"
base="https://wms.example:$https_port"
h="$work/headers" b="$work/body"

login_body() {
  python3 -c 'import json, sys; print(json.dumps({"query": "mutation ($o: String!, $e: String!, $p: String!) { login(input: {organisation: $o, email: $e, password: $p}) { user { email } } }", "variables": {"o": sys.argv[1], "e": sys.argv[2], "p": sys.argv[3]}}))' \
    "$DEMO_ORGANISATION" "$DEMO_EMAIL" "$1"
}

echo "plain HTTP"
for method in GET HEAD; do
  how=(--get)
  [ "$method" = HEAD ] && how=(--head)
  plain_curl -o /dev/null -D "$h" "${how[@]}" "$plain/graphiql?tab=2&x=%20y"
  check "$method page: 308" equals 308 "$(status "$h")"
  check "$method page: to the same host, path and query on HTTPS" \
    equals "https://wms.example/graphiql?tab=2&x=%20y" "$(header "$h" location)"
done
plain_curl -o "$b" -D "$h" -H 'content-type: application/json' --data '{"query":"{ health { status } }"}' "$plain/graphql"
check "API over plain HTTP: refused with 403" equals 403 "$(status "$h")"
check "API over plain HTTP: no redirect" equals "" "$(header "$h" location)"
check "API over plain HTTP: the service's error shape" \
  equals BAD_USER_INPUT "$(json_field "$b" 'd["errors"][0]["extensions"]["code"]')"
plain_curl -o /dev/null -D "$h" -X POST --data 'x' "$plain/graphiql"
check "POST to a page over plain HTTP: refused, not redirected" equals 403 "$(status "$h")"

echo "HTTPS"
expect_edge_headers() {
  local what=$1
  check "$what: HSTS once" equals "max-age=63072000; includeSubDomains" "$(header "$h" strict-transport-security)"
  check "$what: nosniff once" equals nosniff "$(header "$h" x-content-type-options)"
  check "$what: X-Frame-Options once" equals DENY "$(header "$h" x-frame-options)"
  check "$what: Referrer-Policy once" equals no-referrer "$(header "$h" referrer-policy)"
  check "$what: COOP once" equals same-origin "$(header "$h" cross-origin-opener-policy)"
  check "$what: CORP once" equals same-origin "$(header "$h" cross-origin-resource-policy)"
  check "$what: Permissions-Policy grants nothing, once" \
    equals 1 "$(header "$h" permissions-policy | grep -c 'camera=(), ' || true)"
  check "$what: one Content-Security-Policy" equals 1 "$(header "$h" content-security-policy | wc -l)"
  check "$what: Server names no version" equals nginx "$(header "$h" server)"
}
tls_curl -o /dev/null -D "$h" "$base/graphiql"
check "GraphiQL: 200" equals 200 "$(status "$h")"
expect_edge_headers "GraphiQL"
check "GraphiQL: the service's page policy kept (its scripts allowed)" \
  equals 1 "$(header "$h" content-security-policy | grep -c "script-src 'self'" || true)"
check "GraphiQL: request id from nginx reaches the service and comes back" \
  equals 1 "$(header "$h" x-request-id | grep -cE '^[0-9a-f]{32}$' || true)"
tls_curl -o /dev/null -D "$h" "$base/no/such/path"
check "unknown path: the service's 404" equals 404 "$(status "$h")"
expect_edge_headers "404"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$work/large"
tls_curl -o "$b" -D "$h" -H 'content-type: application/json' --data-binary "@$work/large" "$base/graphql"
check "2 MB body: nginx's 413" equals 413 "$(status "$h")"
check "2 MB body: in the service's error shape" \
  equals BAD_USER_INPUT "$(json_field "$b" 'd["errors"][0]["extensions"]["code"]')"
expect_edge_headers "413 from nginx"
tls_curl -o /dev/null -D "$h" -H 'x-forwarded-proto: http' "$base/graphiql"
check "a client's X-Forwarded-Proto: http is overwritten by nginx (no redirect)" equals 200 "$(status "$h")"

echo "sign-in and a query through nginx"
tls_curl -o "$b" -D "$h" -c "$work/jar" -H 'content-type: application/json' \
  --data "$(login_body "$DEMO_PASSWORD")" "$base/graphql"
check "login: signed in" equals "$DEMO_EMAIL" "$(json_field "$b" 'd["data"]["login"]["user"]["email"]')"
cookie=$(header "$h" set-cookie | grep '^__Host-vaskem_session=' || true)
for attribute in Secure HttpOnly 'SameSite=Strict' 'Path=/'; do
  check "login: the session cookie is $attribute" equals 1 "$(tr ';' '\n' <<<"$cookie" | grep -cixF " $attribute" || true)"
done
tls_curl -o "$b" -b "$work/jar" -H 'content-type: application/json' \
  --data '{"query":"{ me { email } }"}' "$base/graphql"
check "a query with the session cookie" equals "$DEMO_EMAIL" "$(json_field "$b" 'd["data"]["me"]["email"]')"

echo "forged forwarded headers"
for n in 1 2 3; do
  tls_curl -o "$b" -H "x-forwarded-for: 203.0.113.$n" -H 'content-type: application/json' \
    --data "$(login_body "not the password $n")" "$base/graphql"
  check "wrong password $n: refused" equals True "$(json_field "$b" '"errors" in d')"
done
tls_curl -o "$b" -H 'x-forwarded-for: 198.51.100.77' -H 'content-type: application/json' \
  --data "$(login_body "$DEMO_PASSWORD")" "$base/graphql"
check "a fresh forged X-Forwarded-For does not escape the client's lockout" \
  equals LOCKED_OUT "$(json_field "$b" 'd["errors"][0]["extensions"]["reason"]')"
tls_curl -o "$b" -b "$work/jar" -H 'content-type: application/json' \
  --data '{"query":"{ auditEvents(first: 50) { nodes { action outcome clientAddress } } }"}' "$base/graphql"
addresses=$(json_field "$b" '" ".join(sorted({e["clientAddress"] or "-" for e in d["data"]["auditEvents"]["nodes"] if e["action"] == "user.login"}))')
check "audit log: every sign-in recorded from nginx's view of the client" equals "127.0.0.1" "$addresses"

echo "service down"
kill "${EDGE_PIDS[0]}"
wait "${EDGE_PIDS[0]}" 2>/dev/null || true
tls_curl -o "$b" -D "$h" "$base/graphiql"
check "503 in the service's error shape" equals "503 INTERNAL" \
  "$(status "$h") $(json_field "$b" 'd["errors"][0]["extensions"]["code"]')"
expect_edge_headers "503 from nginx"

echo "check-nginx: $EDGE_FAILURES failed, $(($(date +%s) - started)) s"
[ "$EDGE_FAILURES" -eq 0 ]
