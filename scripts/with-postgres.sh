#!/usr/bin/env bash
# Runs a command with a private PostgreSQL server for the tests:
#
#   scripts/with-postgres.sh <command...>
#
# Creates a throwaway cluster in a temp dir (trust auth, superuser
# `kanoon`), starts it on a free port of 127.0.0.1, exports
# KANOON_TEST_POSTGRES_URL=postgres://kanoon@127.0.0.1:PORT/postgres (and, the
# server serving TLS too, KANOON_TEST_POSTGRES_CA: its CA's certificate), runs
# the command, then stops the cluster and removes the dir, whatever happens.
# Exits with the command's status. Installs Debian's `postgresql` package
# when no PostgreSQL binaries are found. PostgreSQL refuses to run as root:
# as root, the cluster belongs to the system user `kanoon-pg` (created if
# missing). With KANOON_TEST_POSTGRES_URL already set, the command just runs
# against that server.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 <command...>" >&2
    exit 2
fi

if [ -n "${KANOON_TEST_POSTGRES_URL:-}" ]; then
    echo "with-postgres: using KANOON_TEST_POSTGRES_URL as set" >&2
    exec "$@"
fi

# The newest PostgreSQL's binaries: Debian keeps them per version, off PATH.
find_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
    elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
    fi
}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "with-postgres: PostgreSQL is not installed; install it (Debian: apt-get install postgresql) and run again" >&2
        exit 1
    fi
    echo "with-postgres: installing postgresql with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bindir=$(find_bindir)
    if [ -z "$bindir" ]; then
        echo "with-postgres: no initdb after installing postgresql" >&2
        exit 1
    fi
fi

# Runs a PostgreSQL binary as the cluster's owner, from the cluster's dir.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    owner=kanoon-pg
    if ! id -u "$owner" >/dev/null 2>&1; then
        useradd --system --create-home --shell /usr/sbin/nologin "$owner"
    fi
    as_owner=(runuser -u "$owner" --)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/kanoon-pg.XXXXXX")
started=""
cleanup() {
    if [ -n "$started" ]; then
        (cd "$dir" && "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1) || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ "${#as_owner[@]}" -gt 0 ]; then
    chown "$owner" "$dir"
fi
chmod 700 "$dir"

if ! (cd "$dir" && "${as_owner[@]}" "$bindir/initdb" -A trust -U kanoon -E UTF8 --locale=C -D "$dir/data" >"$dir/initdb.log" 2>&1); then
    cat "$dir/initdb.log" >&2
    echo "with-postgres: initdb failed" >&2
    exit 1
fi

# TLS for the tests whose URL asks for it (`sslmode`): a throwaway CA and a
# certificate for 127.0.0.1 it signed; KANOON_TEST_POSTGRES_CA names the
# CA's certificate. Without openssl the server runs without TLS and those
# tests say they skip.
ssl_opts=""
if command -v openssl >/dev/null 2>&1; then
    if (
        cd "$dir" &&
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
                -subj "/CN=Kanoon test CA" -keyout ca.key -out ca.crt &&
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
                -keyout server.key -out server.csr &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext &&
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
                -extfile server.ext -out server.crt
    ) >"$dir/openssl.log" 2>&1; then
        chmod 600 "$dir/server.key"
        if [ "${#as_owner[@]}" -gt 0 ]; then
            chown "$owner" "$dir/server.key" "$dir/server.crt"
        fi
        ssl_opts="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
        export KANOON_TEST_POSTGRES_CA="$dir/ca.crt"
    else
        echo "with-postgres: openssl failed ($dir/openssl.log), PostgreSQL runs without TLS" >&2
    fi
fi

# A free port: one nothing answers on, and that the server could bind.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    if port_in_use "$port"; then
        continue
    fi
    if (cd "$dir" && "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200 $ssl_opts" start >/dev/null); then
        started=1
        break
    fi
done
if [ -z "$started" ]; then
    tail -n 30 "$dir/server.log" >&2 || true
    echo "with-postgres: could not start PostgreSQL" >&2
    exit 1
fi

export KANOON_TEST_POSTGRES_URL="postgres://kanoon@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $KANOON_TEST_POSTGRES_URL" >&2

status=0
"$@" || status=$?
exit "$status"
