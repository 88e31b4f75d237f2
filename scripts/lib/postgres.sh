# shellcheck shell=bash
# A PostgreSQL server for the tests. Source this file, then call:
#
#   ensure_postgres   sets and exports KEYWARD_TEST_POSTGRES_URL
#   stop_postgres     stops the throwaway cluster, if ensure_postgres made one
#                     (safe to call always, e.g. from an EXIT trap)
#
# ensure_postgres uses the server on 127.0.0.1:5432 when one answers there and
# `psql -U postgres -c 'select 1'` works. Otherwise it installs Debian's
# postgresql package when initdb/pg_ctl are missing, and starts a throwaway
# cluster in a temporary directory: trust auth, listening on 127.0.0.1 only, on
# a free port from 55432 up, run as the `postgres` OS user when we are root
# (initdb refuses root).
#
# Environment:
#   KEYWARD_PG_FORCE_LOCAL=1   skip the 127.0.0.1:5432 server; always start a
#                              throwaway cluster
#   KEYWARD_TEST_POSTGRES_URL  when already set and reachable, it is kept
#
# Idempotent (a second call reuses the cluster) and quiet unless something fails.

_kw_pg_log() { printf '%s\n' "$*" >&2; }

# _kw_pg_url_ok URL : true when `select 1` works on URL.
_kw_pg_url_ok() {
    command -v psql >/dev/null 2>&1 || return 1
    PGCONNECT_TIMEOUT=5 psql "$1" -X -q -A -t -v ON_ERROR_STOP=1 -c 'select 1' >/dev/null 2>&1
}

# _kw_pg_bindir : prints the newest /usr/lib/postgresql/*/bin that has initdb and pg_ctl.
_kw_pg_bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            printf '%s\n' "$d"
        fi
    done | sort -t/ -k4,4n | tail -n 1 | grep .
}

_kw_pg_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        _kw_pg_log "error: need root to run: $*"
        return 1
    fi
}

# _kw_pg_install : installs Debian's postgresql server (and client) packages.
_kw_pg_install() {
    local log
    log="$(mktemp)"
    _kw_pg_log "installing Debian's postgresql (apt-get) ..."
    if ! _kw_pg_as_root env DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1 \
        || ! _kw_pg_as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends postgresql postgresql-client >"$log" 2>&1; then
        _kw_pg_log "error: installing postgresql failed:"
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# _kw_pg_port_free PORT : true when nothing listens on 127.0.0.1:PORT.
_kw_pg_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _kw_pg_run_as_owner CMD... : runs CMD as the cluster's owner (postgres when root).
_kw_pg_run_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

stop_postgres() {
    if [ -n "${_KW_PG_DIR:-}" ] && [ -d "$_KW_PG_DIR" ]; then
        if [ -n "${_KW_PG_BINDIR:-}" ] && [ -f "$_KW_PG_DIR/data/postmaster.pid" ]; then
            _kw_pg_run_as_owner "$_KW_PG_BINDIR/pg_ctl" -D "$_KW_PG_DIR/data" \
                -m fast -w -t 30 stop >/dev/null 2>&1 || true
        fi
        rm -rf "$_KW_PG_DIR"
    fi
    if [ -n "${_KW_PG_DIR:-}" ]; then
        unset KEYWARD_TEST_POSTGRES_URL
    fi
    _KW_PG_DIR=""
    _KW_PG_BINDIR=""
}

ensure_postgres() {
    # Already set up by an earlier call (or by the caller) and still answering?
    # (With KEYWARD_PG_FORCE_LOCAL=1 only our own throwaway cluster is reused.)
    if [ -n "${KEYWARD_TEST_POSTGRES_URL:-}" ] \
        && { [ "${KEYWARD_PG_FORCE_LOCAL:-0}" != "1" ] || [ -n "${_KW_PG_DIR:-}" ]; } \
        && _kw_pg_url_ok "$KEYWARD_TEST_POSTGRES_URL"; then
        export KEYWARD_TEST_POSTGRES_URL
        return 0
    fi

    # The machine's own server on 127.0.0.1:5432.
    if [ "${KEYWARD_PG_FORCE_LOCAL:-0}" != "1" ] \
        && command -v pg_isready >/dev/null 2>&1 \
        && pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
        local url="postgres://postgres@127.0.0.1:5432/postgres"
        if _kw_pg_url_ok "$url"; then
            export KEYWARD_TEST_POSTGRES_URL="$url"
            return 0
        fi
        _kw_pg_log "note: a server answers on 127.0.0.1:5432 but 'select 1' as postgres fails; starting a throwaway cluster"
    fi

    # A throwaway cluster.
    local bindir
    if ! bindir="$(_kw_pg_bindir)" || ! command -v psql >/dev/null 2>&1; then
        _kw_pg_install || return 1
        bindir="$(_kw_pg_bindir)" || {
            _kw_pg_log "error: initdb/pg_ctl not found under /usr/lib/postgresql/*/bin after installing postgresql"
            return 1
        }
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        _kw_pg_log "error: running as root but there is no 'postgres' OS user to run the cluster as"
        return 1
    fi

    local port=55432
    while ! _kw_pg_port_free "$port"; do
        port=$((port + 1))
        if [ "$port" -gt 55532 ]; then
            _kw_pg_log "error: no free port in 55432-55532 for a throwaway PostgreSQL"
            return 1
        fi
    done

    local dir
    # Under /tmp, not $TMPDIR: the postgres user must be able to reach it.
    dir="$(mktemp -d /tmp/keyward-pg.XXXXXX)" || return 1
    chmod 755 "$dir"
    mkdir -p "$dir/data" "$dir/run"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres: "$dir/data" "$dir/run"
    fi
    _KW_PG_DIR="$dir"
    _KW_PG_BINDIR="$bindir"

    if ! _kw_pg_run_as_owner "$bindir/initdb" -D "$dir/data" -U postgres \
        --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        && ! _kw_pg_run_as_owner "$bindir/initdb" -D "$dir/data" -U postgres \
            --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1; then
        _kw_pg_log "error: initdb failed:"
        cat "$dir/initdb.log" >&2
        stop_postgres
        return 1
    fi

    # The log file must be writable by the cluster's owner.
    : >"$dir/run/postgres.log"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/run/postgres.log"; fi
    if ! _kw_pg_run_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/run/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/run -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >"$dir/pg_ctl.log" 2>&1; then
        _kw_pg_log "error: starting the throwaway PostgreSQL failed:"
        cat "$dir/pg_ctl.log" "$dir/run/postgres.log" >&2
        stop_postgres
        return 1
    fi

    local url="postgres://postgres@127.0.0.1:$port/postgres"
    local i
    for i in $(seq 1 30); do
        if _kw_pg_url_ok "$url"; then
            export KEYWARD_TEST_POSTGRES_URL="$url"
            return 0
        fi
        sleep 1
    done
    _kw_pg_log "error: the throwaway PostgreSQL on port $port never answered 'select 1' (tried $i times):"
    cat "$dir/run/postgres.log" >&2
    stop_postgres
    return 1
}
