#!/usr/bin/env bash
# Property-based API test of the provincial server with schemathesis:
#
#   scripts/schemathesis.sh
#
# Builds and starts the real `kanoon-server` binary on a free loopback port
# with a fresh SQLite file, registers a center and enrols a device through
# the admin CLI and the API (so push and pull are exercised with a real
# token), installs schemathesis from PyPI into target/schemathesis-venv if
# missing, runs it against the served OpenAPI document with the token
# header, then stops the server. Fails on any 5xx (`not_a_server_error`) and
# on responses that the document does not describe. Bounded: a few examples
# per operation and a time budget (SCHEMATHESIS_MAX_TIME, default 60 s).
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-40}
max_time=${SCHEMATHESIS_MAX_TIME:-60}
venv=target/schemathesis-venv

if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "schemathesis: installing it into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis
fi

# The workspace's test build, as `cargo test --workspace` and the E2E make it:
# after them nothing is compiled (building the server alone resolves other
# features and compiled it and its dependencies again: 3 minutes of CI).
cargo build --quiet --locked --workspace --lib --bins --tests --examples
bin=target/debug/kanoon-server

dir=$(mktemp -d "${TMPDIR:-/tmp}/kanoon-schemathesis.XXXXXX")
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

db="$dir/province.sqlite"
"$bin" center add --database "$db" --code 1234 --name "کانون ۱۲۳۴" >/dev/null
code=$("$bin" enrol-code --database "$db" --center 1234 2>/dev/null)

# A free port: ask the kernel for one, then listen on it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# /metrics is on the admin address (any free port here), not the API's: left out of the run.
"$bin" --log-format json serve --database "$db" --listen "127.0.0.1:$port" --admin-listen 127.0.0.1:0 \
    2>"$dir/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
    if curl -fsS "$base/health" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$dir/server.log" >&2
        echo "schemathesis: the server exited" >&2
        exit 1
    fi
    sleep 0.1
done

# Enrol desk 1 of center 1234 through the API for a token.
device_id=$(python3 -c 'import uuid; print(uuid.uuid4())')
token=$(curl -fsS -X POST "$base/sync/v1/enrol" -H 'content-type: application/json' \
    -d "{\"code\":\"$code\",\"device_id\":\"$device_id\",\"desk_number\":1,\"device_name\":\"schemathesis\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

status=0
# From the temp dir: schemathesis keeps a cache in ./.schemathesis.
st=$(pwd)/$venv/bin/schemathesis
(cd "$dir" && "$st" run "$base/sync/v1/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --exclude-path /metrics \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$max_examples" \
    --max-time "$max_time" \
    --request-timeout 10 \
    --generation-database none \
    --no-color) || status=$?

if grep -q '"level":"ERROR"' "$dir/server.log"; then
    echo "schemathesis: the server logged errors:" >&2
    grep '"level":"ERROR"' "$dir/server.log" | tail -n 20 >&2
    status=1
fi
exit "$status"
