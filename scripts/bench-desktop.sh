#!/usr/bin/env bash
# Desktop figures for docs/BENCHMARKS.md: start-up, scan → row latency in
# the window, memory beside an empty Tauri window, and the .deb's size.
#
#   bash scripts/bench-desktop.sh [--fraction F]   (default 1: the reference dataset)
set -euo pipefail
cd "$(dirname "$0")/.."

fraction=1
if [ "${1:-}" = "--fraction" ] && [ -n "${2:-}" ]; then fraction=$2; fi

bash scripts/setup-desktop.sh
# Release: the figures are for what ships (the .deb below is built from the
# same release binaries). Not part of CI, which stays on the dev profile.
cargo build --release -p kanoon-desk --locked --bins
db=target/bench-desktop/center.sqlite
rm -rf target/bench-desktop && mkdir -p target/bench-desktop
target/release/kanoon-desk-demo "$db" --fraction "$fraction"
export PATH="$HOME/.cargo/bin:$PATH"
xvfb-run -a -s "-screen 0 1280x800x24" node ui/e2e/bench.mjs "$db"

if [ "${KANOON_BENCH_DEB:-1}" = "1" ]; then
    # The bundle is a release build (its own profile; not part of CI).
    ui/node_modules/.bin/tauri build --bundles deb 2>&1 | tail -n 3 || true
    ls -l target/release/bundle/deb/*.deb 2>/dev/null | awk '{ printf "deb: %s %.1f MB\n", $9, $5 / 1048576 }'
fi
