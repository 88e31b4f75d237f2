# shellcheck shell=bash
# The SMTP capture server for the tests (Python's aiosmtpd). Source this file,
# then call:
#
#   ensure_smtp_tools   creates target/test-tools/smtp-venv with the pinned
#                       packages of tests/smtp/requirements.txt, unless it is
#                       already there and built from the same requirements
#
# The Rust helper keyward_core::testing::SmtpCapture uses the same virtual
# environment, the same lock file and the same marker, so whichever comes
# first builds it and the other reuses it.
#
# Idempotent and quiet unless it has work to do or fails.

_KW_SMTP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

_kw_smtp_log() { printf '%s\n' "$*" >&2; }

# _kw_smtp_ready VENV REQUIREMENTS : true when VENV was built from REQUIREMENTS.
_kw_smtp_ready() {
    [ -x "$1/bin/python" ] && cmp -s "$2" "$1/.keyward-requirements"
}

ensure_smtp_tools() {
    local tools="$_KW_SMTP_ROOT/target/test-tools"
    local venv="$tools/smtp-venv"
    local requirements="$_KW_SMTP_ROOT/tests/smtp/requirements.txt"
    if _kw_smtp_ready "$venv" "$requirements"; then
        return 0
    fi
    if ! command -v python3 >/dev/null 2>&1; then
        _kw_smtp_log "error: python3 not found (the SMTP capture server of the tests needs it)"
        return 1
    fi
    mkdir -p "$tools"
    local log status=0
    log="$(mktemp)"
    _kw_smtp_log "installing the SMTP capture server (aiosmtpd) in target/test-tools/smtp-venv ..."
    (
        flock 9
        if ! _kw_smtp_ready "$venv" "$requirements"; then
            rm -rf "$venv"
            python3 -m venv "$venv" \
                && "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$requirements" \
                && cp "$requirements" "$venv/.keyward-requirements"
        fi
    ) 9>"$tools/smtp-venv.lock" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        _kw_smtp_log "error: creating the SMTP capture venv failed:"
        cat "$log" >&2
        if ! python3 -m venv --help >/dev/null 2>&1; then
            _kw_smtp_log "hint: Debian needs the python3-venv package"
        fi
    fi
    rm -f "$log"
    return "$status"
}
