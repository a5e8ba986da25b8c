#!/usr/bin/env bash
# The desktop app's end-to-end test: builds the app in the dev profile (the
# one `cargo test` uses, so nothing is compiled twice) and drives the real
# window under Xvfb. Screenshots land in target/e2e-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-desktop.sh
# The same targets as `cargo test --workspace`, so the same feature
# unification: after the tests this is a no-op (building only the app's
# package would resolve other features and recompile its dependencies).
cargo build --workspace --lib --bins --tests --examples --locked
export PATH="$HOME/.cargo/bin:$PATH"
xvfb-run -a -s "-screen 0 1280x800x24" node ui/e2e/run.mjs
