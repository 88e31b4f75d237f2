"""schemathesis hooks of scripts/api-fuzz (loaded through SCHEMATHESIS_HOOKS).

- Real ids: most generated path parameters and a few body fields are
  replaced by the demo's real ids and codes that prepare.py collected
  (API_FUZZ_IDS), so operations reach real rows instead of answering 404
  only. The choice is a hash of the generated case, so a run repeats under
  its seed; a quarter of the values are kept as generated (unknown and
  malformed ids stay tested).
- The runner's own session survives: a signed-in run (API_FUZZ_RUN `lead` or
  `admin`) never disables, resets or re-roles its own account, and the lead
  never makes two-step verification compulsory for lead teachers (that would
  hold the session at enrolment for the rest of the run).
- No hill climbing: see `hypothesis.target` below.
- Counts: every answer's status is counted and written at exit to
  API_FUZZ_STATS ({"calls": N, "statuses": {...}, "server_errors": [...],
  "by_operation": {...}}).
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import hypothesis
import schemathesis

# schemathesis hands Hypothesis each fuzzed call's success as a target to
# maximise; once calls reach real rows and succeed, Hypothesis's hill climbing
# spends minutes per operation redrawing cases that are sent as duplicates or
# not at all (measured: 3 operations, 50 examples: 128 s and 51 cases with it,
# 18 s and 101 cases without). The real ids already steer towards accepted
# calls, so the target is switched off.
hypothesis.target = lambda *args, **kwargs: None

RUN = os.environ.get("API_FUZZ_RUN", "anonymous")
_IDS_PATH = os.environ.get("API_FUZZ_IDS")
_IDS: dict[str, Any] = json.loads(Path(_IDS_PATH).read_text(encoding="utf-8")) if _IDS_PATH else {}
POOLS: dict[str, list[str]] = dict(_IDS.get("pools", {}))
ME: dict[str, Any] = _IDS.get("runs", {}).get(RUN, {})
SELF = ME.get("self")
POOLS["token"] = list(ME.get("token", []))
# A runner with a school of its own mostly acts in it; sometimes in another.
if ME.get("school") in POOLS.get("school", []):
    POOLS["school"] = [ME["school"]] * 3 + [s for s in POOLS["school"] if s != ME["school"]]

# The path segment before a parameter names the kind of row it picks.
PATH_KINDS = {
    "classes": "class",
    "learners": "learner",
    "users": "user",
    "schools": "school",
    "tokens": "token",
    "sso-providers": "sso_provider",
    "sso-links": "sso_provider",
    "recovery": "reset_token",
}
# Body fields, in whichever operation, and the kind they take (a `code` field
# only in the operations of CODE_KINDS).
BODY_KINDS = {
    "role_id": "role",
    "class_code": "class_code",
    "parent_access_code": "parent_access_code",
    "school_id": "school",
    "class_ids": "class",
    "teacher_ids": "staff",
    "permissions": "permission",
}
# The permission names of keyward_core::authz::Permission.
POOLS["permission"] = [
    "users.view",
    "users.reset_password",
    "users.reset_mfa",
    "users.manage",
    "classes.manage",
    "learners.view",
    "learners.reset_password",
    "credentials.export.class",
    "credentials.export.school",
    "audit.view",
    "roles.manage",
    "schools.manage",
]
CODE_KINDS = {"activate": ("access_code", "parent_access_code"), "redeem_recovery_code": ("reset_code",)}
# Operations on /users/{id} a signed-in run must not aim at itself.
NOT_ON_SELF = {
    "disable_user",
    "enable_user",
    "set_temporary_password",
    "send_password_reset",
    "reset_user_mfa",
    "grant_role",
    "unlink_sso",
    "reissue_access_code",
}


def _hash(*parts: Any) -> int:
    return zlib.crc32(repr(parts).encode())


def _pick(pool: list[str], value: Any, *key: Any) -> Any:
    """A real id for `value` (chosen by the hash of `key` and `value`), or
    `value` itself a quarter of the time."""
    if not pool:
        return value
    h = _hash(*key, value)
    if h % 4 == 0:
        return value
    return pool[(h >> 2) % len(pool)]


def _path_kind(path: str, name: str) -> str | None:
    segments = path.strip("/").split("/")
    try:
        at = segments.index("{" + name + "}")
    except ValueError:
        return None
    return PATH_KINDS.get(segments[at - 1]) if at > 0 else None


def _map_body(operation_id: str, salt: Any, body: dict) -> dict:
    for field, value in list(body.items()):
        kind = BODY_KINDS.get(field)
        if field == "code" and operation_id in CODE_KINDS:
            pool = [code for kind in CODE_KINDS[operation_id] for code in POOLS.get(kind, [])]
            body[field] = _pick(pool, value, salt, field)
        elif kind and isinstance(value, list):
            pool = POOLS.get(kind, [])
            body[field] = [
                _pick(pool, item, salt, field, i) if isinstance(item, str) else item for i, item in enumerate(value)
            ]
        elif kind and isinstance(value, str):
            body[field] = _pick(POOLS.get(kind, []), value, salt, field)
    return body


def _protect_self(operation_id: str, case: Any) -> None:
    """Keeps a signed-in run's own session working."""
    if SELF is None:
        return
    params = case.path_parameters or {}
    if operation_id in NOT_ON_SELF and params.get("id") == SELF:
        others = [user for user in POOLS.get("user", []) if user != SELF]
        params["id"] = others[_hash(case.operation.label) % len(others)] if others else "0"
    held_by_school_rule = ME.get("role") != "platform_admin"
    if operation_id == "set_school_mfa_rule" and held_by_school_rule and isinstance(case.body, dict):
        roles = case.body.get("required_roles")
        if isinstance(roles, list):
            case.body["required_roles"] = [role for role in roles if role != ME.get("role")]


@schemathesis.hook
def map_case(ctx: Any, case: Any) -> Any:
    operation = case.operation
    operation_id = operation.definition.raw.get("operationId", "")
    # The whole case goes into each choice, so that a value Hypothesis draws
    # again and again (`""`, `"0"`) still meets different rows.
    salt = (operation.label, repr(case.path_parameters), repr(case.query), repr(case.body)[:500])
    if case.path_parameters:
        for name, value in list(case.path_parameters.items()):
            kind = _path_kind(operation.path, name)
            if kind and isinstance(value, str):
                case.path_parameters[name] = _pick(POOLS.get(kind, []), value, salt, name)
    if isinstance(case.body, dict):
        case.body = _map_body(operation_id, salt, case.body)
    _protect_self(operation_id, case)
    return case


_LOCK = threading.Lock()
_STATUSES: Counter[int] = Counter()
_BY_OPERATION: dict[str, Counter[int]] = {}
_SERVER_ERRORS: list[str] = []


@schemathesis.hook
def after_call(ctx: Any, case: Any, response: Any) -> None:
    status = int(response.status_code)
    with _LOCK:
        _STATUSES[status] += 1
        _BY_OPERATION.setdefault(case.operation.label, Counter())[status] += 1
        if status >= 500 and len(_SERVER_ERRORS) < 50:
            _SERVER_ERRORS.append(f"{status} {case.operation.label}")


@atexit.register
def _write_stats() -> None:
    path = os.environ.get("API_FUZZ_STATS")
    if not path:
        return
    with _LOCK:
        stats = {
            "calls": sum(_STATUSES.values()),
            "statuses": {str(k): v for k, v in sorted(_STATUSES.items())},
            "server_errors": _SERVER_ERRORS,
            "by_operation": {
                label: {str(k): v for k, v in sorted(counts.items())} for label, counts in sorted(_BY_OPERATION.items())
            },
        }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(stats, out)
