#!/usr/bin/env bash
# The README's test command: installs what the tests need and runs every
# test of the workspace. Used as is by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything comes from crates.io through Cargo.lock; the Rust toolchain is
# the machine's. (The desktop app's system packages arrive with src-tauri.)
if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust (https://rustup.rs) and run again" >&2
    exit 1
fi

# The desktop app: Debian packages (WebKitGTK, Xvfb, the WebKit WebDriver),
# npm packages and the window's built files, which the Tauri crate embeds
# when it compiles (so before `cargo test --workspace`).
bash scripts/setup-desktop.sh

# The network-fault test (crates/kanoon-server/tests/it/netfaults.rs) puts
# desks and the server in network namespaces with nftables rules: iproute2
# and nftables, as root. As root the test must run (KANOON_NETNS_TESTS=1);
# elsewhere it says it was skipped.
if [ "$(id -u)" = 0 ]; then
    missing=()
    command -v ip >/dev/null || missing+=(iproute2)
    command -v nft >/dev/null || missing+=(nftables)
    if [ "${#missing[@]}" -gt 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    export KANOON_NETNS_TESTS=1
fi

# Each phase's wall time (the CI log's "ci-phase" lines).
since() { echo "ci-phase $1: $((SECONDS - $2)) s" >&2; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# The server's tests run once against SQLite and once against PostgreSQL:
# with-postgres.sh starts a private PostgreSQL for the run (installing it
# if needed) and sets KANOON_TEST_POSTGRES_URL; their names say `postgres`.
t=$SECONDS
bash scripts/with-postgres.sh cargo test --workspace --locked 2>&1 | tee "$log" || status=$?
since "cargo test (build and run)" "$t"
echo "postgres tests: $(grep -cE '^test .*postgres.* \.\.\. ok$' "$log" || true) passed"

# schemathesis (PyPI) against the real server's OpenAPI document: no 5xx,
# responses as documented.
t=$SECONDS
bash scripts/schemathesis.sh 2>&1 | tail -n 15 || status=1
since schemathesis "$t"

# The window's code: types (strict) and the Vitest tests of its logic.
t=$SECONDS
(cd ui && npx svelte-check --tsconfig ./tsconfig.json --fail-on-warnings --output human) 2>&1 | tail -n 3 | tee -a "$log" || status=1
(cd ui && npx vitest run) 2>&1 | tee -a "$log" || status=1
since "svelte-check and vitest" "$t"

# The real window, driven by WebDriver under Xvfb (same dev-profile build).
t=$SECONDS
bash scripts/e2e.sh 2>&1 | tee -a "$log" || status=1
since "e2e (build and run)" "$t"

# One closing line for the whole run: cargo's lines (one per test binary),
# Vitest's "Tests N passed (M)" and the E2E's "e2e: N passed, M failed".
sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
  /^ *Tests +[0-9]+/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "passed") p += $i; if ($(i+1) == "failed") f += $i } }
  /^e2e: [0-9]+ passed/ { p += $2; f += $4 }
  END { printf "tests: %d passed, %d failed\n", p, f }'
exit "$status"
