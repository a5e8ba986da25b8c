#!/usr/bin/env bash
# The README's run command: installs what is missing (Debian and npm
# packages, tauri-driver is not needed here), builds the desktop app and
# opens it on a demo center database filled by the generator.
#
#   bash scripts/run-demo.sh [--fraction F]     (default 0.05 of the reference size)
set -euo pipefail
cd "$(dirname "$0")/.."

fraction=0.05
if [ "${1:-}" = "--fraction" ] && [ -n "${2:-}" ]; then
    fraction=$2
fi

bash scripts/setup-desktop.sh
# The dev profile: the same build the tests use (dependencies at opt-level 2).
cargo build -p kanoon-desk --locked --bin kanoon-desk --bin kanoon-desk-demo

db=target/demo/demo-center.sqlite
mkdir -p target/demo
target/debug/kanoon-desk-demo "$db" --fraction "$fraction"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    echo "no display: run this from a desktop session (or: xvfb-run -a bash scripts/run-demo.sh)" >&2
    exit 1
fi
echo "opening the loan desk on $db — sign in as manager / kanoon"
KANOON_DESK_DB="$db" exec target/debug/kanoon-desk
