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

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# The server's tests run once against SQLite and once against PostgreSQL:
# with-postgres.sh starts a private PostgreSQL for the run (installing it
# if needed) and sets KANOON_TEST_POSTGRES_URL; their names say `postgres`.
bash scripts/with-postgres.sh cargo test --workspace --locked 2>&1 | tee "$log" || status=$?
echo "postgres tests: $(grep -cE '^test .*postgres.* \.\.\. ok$' "$log" || true) passed"

# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
