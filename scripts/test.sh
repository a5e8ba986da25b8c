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

cargo test --workspace --locked
