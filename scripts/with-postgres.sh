#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL cluster.
#
#   scripts/with-postgres.sh CMD [ARGS...]
#
# Starts a private cluster on a free 127.0.0.1 port (trust auth, user postgres,
# durability switched off for speed), creates database infolinia_test, runs CMD
# with
#   INFOLINIA_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:PORT/infolinia_test
#   INFOLINIA_TEST_PG_ADMIN_URL=postgresql+asyncpg://postgres@127.0.0.1:PORT/postgres
# exported, then stops the cluster, deletes its directory and exits with CMD's
# exit code.  Works as a normal user and as root (the server then runs as the
# "postgres" system user, since PostgreSQL refuses to run as root).
set -euo pipefail

log() { printf 'with-postgres: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

if [[ $# -eq 0 ]]; then
    die "usage: $0 CMD [ARGS...]"
fi

# --- find the server binaries ------------------------------------------------
find_bindir() {
    local d best=""
    # /usr/lib/postgresql/<version>/bin, highest version first.
    while IFS= read -r d; do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
            best="$d"
            break
        fi
    done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r)
    if [[ -z "$best" ]] && command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
            best="$d"
        fi
    fi
    if [[ -z "$best" ]] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        best="$(dirname "$(command -v initdb)")"
    fi
    printf '%s' "$best"
}

PG_BIN="$(find_bindir)"
[[ -n "$PG_BIN" ]] || die "PostgreSQL server binaries (initdb, pg_ctl) not found; run scripts/install-test-prereqs.sh (Debian package: postgresql)"
PSQL="$PG_BIN/psql"
if [[ ! -x "$PSQL" ]]; then
    PSQL="$(command -v psql || true)"
    [[ -n "$PSQL" ]] || die "psql not found (Debian package: postgresql-client)"
fi

# --- who runs the server ---------------------------------------------------------
AS_ROOT=0
if [[ "$(id -u)" -eq 0 ]]; then
    AS_ROOT=1
    command -v runuser >/dev/null 2>&1 || die "running as root but runuser (util-linux) is missing"
    if ! id -u postgres >/dev/null 2>&1; then
        log "creating system user postgres"
        useradd --system --user-group --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin postgres
    fi
fi

# as_pg CMD...: run CMD as the server's user, from a directory that user can read.
as_pg() {
    if [[ $AS_ROOT -eq 1 ]]; then
        (cd "$PG_DIR" && runuser -u postgres -- "$@")
    else
        (cd "$PG_DIR" && "$@")
    fi
}

# --- cluster directory and clean-up ------------------------------------------------
tmp_base="${TMPDIR:-/tmp}"
# Unix socket paths are limited to ~107 bytes; keep the directory short.
if [[ ${#tmp_base} -gt 60 || ! -d "$tmp_base" ]]; then
    tmp_base=/tmp
fi
PG_DIR="$(mktemp -d "$tmp_base/infolinia-pg.XXXXXX")"
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/postgres.log"
STARTED=0
CLEANED=0

cleanup() {
    local rc=$?
    set +e
    if [[ $CLEANED -eq 0 ]]; then
        CLEANED=1
        if [[ $STARTED -eq 1 ]]; then
            as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 \
                || as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1
            if [[ -f "$PG_DATA/postmaster.pid" ]]; then
                local pid
                pid="$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null)"
                [[ "$pid" =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null
            fi
        fi
        rm -rf "$PG_DIR"
    fi
    return $rc
}
trap 'cleanup' EXIT
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM

chmod 755 "$PG_DIR"
if [[ $AS_ROOT -eq 1 ]]; then
    chown postgres: "$PG_DIR"
    runuser -u postgres -- test -x "$PG_DIR" \
        || die "user postgres cannot reach $PG_DIR (set TMPDIR to a world-traversable directory)"
fi

# --- initdb ------------------------------------------------------------------------
run_initdb() {
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 \
        --locale="$1" --no-sync >"$PG_DIR/initdb.log" 2>&1
}
if ! run_initdb C.UTF-8; then
    as_pg rm -rf "$PG_DATA"
    if ! run_initdb C; then
        cat "$PG_DIR/initdb.log" >&2
        die "initdb failed"
    fi
fi

# --- start, retrying on a port that got taken in between ---------------------------
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

PG_PORT=""
for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    if as_pg "$PG_BIN/pg_ctl" -w -t 60 -D "$PG_DATA" -l "$PG_LOG" -o \
        "-p $port -k '$PG_DIR' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 2>&1; then
        STARTED=1
        PG_PORT="$port"
        break
    fi
    # pg_ctl may have given up while the server is still coming up; make sure it is gone.
    STARTED=1
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    STARTED=0
    if grep -qiE 'could not bind|address already in use|could not create any TCP/IP sockets' "$PG_LOG" 2>/dev/null \
        && [[ $attempt -lt 5 ]]; then
        log "port $port was taken, retrying"
        : >"$PG_LOG" 2>/dev/null || true
        continue
    fi
    log "PostgreSQL failed to start; server log ($PG_LOG):"
    cat "$PG_LOG" >&2 2>/dev/null || true
    exit 1
done
[[ -n "$PG_PORT" ]] || die "PostgreSQL failed to start"

# --- database ----------------------------------------------------------------------
if ! PGCONNECT_TIMEOUT=10 "$PSQL" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
    -c 'CREATE DATABASE infolinia_test' >/dev/null; then
    log "could not create database infolinia_test; server log:"
    cat "$PG_LOG" >&2 2>/dev/null || true
    exit 1
fi

export INFOLINIA_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:$PG_PORT/infolinia_test"
export INFOLINIA_TEST_PG_ADMIN_URL="postgresql+asyncpg://postgres@127.0.0.1:$PG_PORT/postgres"
log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"

# --- run the command ---------------------------------------------------------------------
rc=0
"$@" || rc=$?
exit $rc
