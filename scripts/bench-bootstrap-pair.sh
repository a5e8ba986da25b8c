#!/usr/bin/env bash
# The bootstrap bench of two commits, back to back, for the same-run
# comparison of docs/BENCHMARKS.md ("Bootstrap streamed on the desk too"):
#
#   git worktree add ../old-bootstrap <old commit>
#   (cd ../old-bootstrap && CARGO_TARGET_DIR=../old-target cargo bench -p kanoon-sync --bench bootstrap --no-run)
#   cargo build --release -p kanoon-server && cargo bench -p kanoon-sync --bench bootstrap --no-run
#   OLD_TREE=../old-bootstrap OLD_TARGET=../old-target \
#     bash scripts/with-postgres.sh bash scripts/bench-bootstrap-pair.sh --fraction 1.0 --backend postgres --server-process
#
# Each bench binary runs from its own crate dir (its data dir); the
# arguments go to both (an older bench ignores flags it does not know).
# NEW_BIN / OLD_BIN pick a binary when several were built.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
: "${OLD_TREE:?the worktree of the old commit}" "${OLD_TARGET:?its target dir}"
latest() { ls -t "$1"/release/deps/bootstrap-* | grep -v '\.d$' | head -n 1; }
old=${OLD_BIN:-$(latest "$OLD_TARGET")}
new=${NEW_BIN:-$(latest "$here/target")}
stamp() { echo "=== $1 $2 $(date -u +%H:%M) load $(cut -d' ' -f1-3 /proc/loadavg)"; }
stamp old "$old"
(cd "$OLD_TREE/crates/kanoon-sync" && "$old" "$@")
stamp new "$new"
(cd "$here/crates/kanoon-sync" && "$new" "$@")
stamp end ""
