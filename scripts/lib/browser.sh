# shellcheck shell=bash
# Browser test prerequisites. Source this file, then call:
#
#   ensure_chromium       installs Debian's chromium when /usr/bin/chromium is missing
#   ensure_browser_deps   runs `npm ci` in tests/browser when node_modules is
#                         missing or older than package-lock.json
#
# Playwright never downloads a browser here: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# is always set and the tests use /usr/bin/chromium (see
# tests/browser/playwright.config.ts).
#
# Both functions are idempotent and quiet unless they have work to do or fail.

# Repository root, from this file's location (scripts/lib/browser.sh).
_KW_BROWSER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

_kw_browser_log() { printf '%s\n' "$*" >&2; }

# Runs a command as root (directly when we are root, else with sudo).
_kw_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        _kw_browser_log "error: need root to run: $*"
        return 1
    fi
}

# _kw_apt_install PKG... : apt-get update (once per shell) then install.
_kw_apt_install() {
    local log
    log="$(mktemp)"
    if [ -z "${_KW_APT_UPDATED:-}" ]; then
        if ! _kw_as_root env DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1; then
            _kw_browser_log "error: apt-get update failed:"
            cat "$log" >&2
            rm -f "$log"
            return 1
        fi
        _KW_APT_UPDATED=1
    fi
    if ! _kw_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "$@" >"$log" 2>&1; then
        _kw_browser_log "error: apt-get install $* failed:"
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

ensure_chromium() {
    if [ -x /usr/bin/chromium ]; then
        return 0
    fi
    _kw_browser_log "installing Debian's chromium (apt-get) ..."
    _kw_apt_install chromium || return 1
    if [ ! -x /usr/bin/chromium ]; then
        _kw_browser_log "error: /usr/bin/chromium still missing after installing chromium"
        return 1
    fi
}

ensure_browser_deps() {
    local dir="$_KW_BROWSER_ROOT/tests/browser"
    local marker="$dir/node_modules/.package-lock.json"
    if ! command -v npm >/dev/null 2>&1; then
        _kw_browser_log "error: npm not found (Node.js 20+ and npm are needed for the browser tests)"
        return 1
    fi
    if [ -d "$dir/node_modules" ] && [ -e "$marker" ] \
        && [ ! "$dir/package-lock.json" -nt "$marker" ] \
        && [ -x "$dir/node_modules/.bin/playwright" ]; then
        return 0
    fi
    _kw_browser_log "installing browser test dependencies (npm ci in tests/browser) ..."
    local log
    log="$(mktemp)"
    if ! (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >"$log" 2>&1); then
        _kw_browser_log "error: npm ci failed in tests/browser:"
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
    # npm ci keeps the files' dates from the tarballs; mark the install as fresh.
    touch "$marker"
}
