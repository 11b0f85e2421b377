#!/bin/sh
# The test edits of issue #10 point 3 (fixed value sets are GraphQL enums), made mechanically so
# they can be re-applied to test files that moved or split since: run it from the repository root
# (`sh scripts/dev/enum-test-edits.sh`), then `cargo fmt --all` (one edited call gets short enough
# to fit a line) and `cargo test --test it`. It is idempotent: a second
# run changes nothing.
#
# 1. The `product(app, session, sku, tracking)` helper's tracking argument: "lot" -> "LOT".
# 2. Enum values written inline in GraphQL documents: tracking: \"lot\" -> tracking: LOT, and
#    kind: \"picking\" -> kind: PICKING.
# 3. Enum values in JSON variables and expected JSON: "tracking": "lot" -> "tracking": "LOT",
#    "kind": "picking" -> "kind": "PICKING", "fromPlace": "location" -> "fromPlace": "LOCATION".
# 4. Assertions on a movement's places: ["fromPlace"], "adjustment" -> ["fromPlace"], "ADJUSTMENT"
#    (also when rustfmt put the value on the next line).
# 5. `stock::verify` moved with the rest of the ledger (`service::ledger`):
#    vaskem::service::stock::verify -> vaskem::service::ledger::verify.
# Audit event details keep the stored lower-case values; no test edit here touches them (their
# keys are inside `detail`, never written as "kind": or "tracking": in a test's expectations).
set -eu

TRACKING='none|lot|serial'
KINDS='receiving|storage|picking|shipping|quarantine'
PLACES='location|supplier|customer|adjustment|scrap|in_transit'

find tests/it -name '*.rs' -print0 | xargs -0 perl -0pi -e "
    s/(\bproduct\((?:[^()]|\([^()]*\))*?,\s*)\"($TRACKING)\"\)/\$1\"\U\$2\E\")/g;
    s/\b(tracking|kind): \\\\\"($TRACKING|$KINDS)\\\\\"/\$1: \U\$2\E/g;
    s/\"(tracking|kind)\": \"($TRACKING|$KINDS)\"/\"\$1\": \"\U\$2\E\"/g;
    s/\"(fromPlace|toPlace)\": \"($PLACES)\"/\"\$1\": \"\U\$2\E\"/g;
    s/(\[\"(?:fromPlace|toPlace)\"\],\s*)\"($PLACES)\"/\$1\"\U\$2\E\"/g;
    s/vaskem::service::stock::verify/vaskem::service::ledger::verify/g;
"
