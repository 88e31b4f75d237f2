# shellcheck shell=bash
# The OpenID provider of the single sign-on tests (npm oidc-provider, in
# tests/oidc). Source this file, then call:
#
#   ensure_oidc_tools   runs `npm ci` in tests/oidc unless node_modules was
#                       already installed from the same package-lock.json;
#                       installs Debian's nodejs and npm first when missing
#
# The Rust helper (crates/keyward-web/tests/http/oidc.rs) uses the same lock
# file (target/test-tools/oidc.lock) and the same marker
# (tests/oidc/node_modules/.keyward-lock), so whichever comes first installs
# and the other reuses it.
#
# Idempotent and quiet unless it has work to do or fails.

_KW_OIDC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

_kw_oidc_log() { printf '%s\n' "$*" >&2; }

# _kw_oidc_ready DIR : true when DIR/node_modules was installed from DIR/package-lock.json.
_kw_oidc_ready() {
    [ -f "$1/node_modules/oidc-provider/package.json" ] \
        && cmp -s "$1/package-lock.json" "$1/node_modules/.keyward-lock"
}

ensure_oidc_tools() {
    local dir="$_KW_OIDC_ROOT/tests/oidc"
    local tools="$_KW_OIDC_ROOT/target/test-tools"
    if _kw_oidc_ready "$dir"; then
        return 0
    fi
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        _kw_oidc_log "installing Debian's nodejs and npm (the OpenID provider of the SSO tests needs them) ..."
        local sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq nodejs npm >/dev/null || {
            _kw_oidc_log "error: could not install nodejs and npm"
            return 1
        }
    fi
    mkdir -p "$tools"
    local log status=0
    log="$(mktemp)"
    _kw_oidc_log "installing the OpenID provider of the SSO tests (npm ci in tests/oidc) ..."
    (
        flock 9
        if ! _kw_oidc_ready "$dir"; then
            cd "$dir" \
                && npm ci --no-audit --no-fund --loglevel=error \
                && cp package-lock.json node_modules/.keyward-lock
        fi
    ) 9>"$tools/oidc.lock" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        _kw_oidc_log "error: npm ci in tests/oidc failed:"
        cat "$log" >&2
    fi
    rm -f "$log"
    return "$status"
}
