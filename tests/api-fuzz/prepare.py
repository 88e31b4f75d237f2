"""Prepares a fresh `keyward demo` for scripts/api-fuzz.

usage: prepare.py URL DATA_DIR OUT_JSON

Signs in as the demo lead teacher and the demo platform admin (the sessions
the signed-in runs send), turns on two-step verification for the admin (an
administrator resets other people's credentials only with it), makes a few
rows the demo lacks (an API token per runner, a custom role, a single sign-on
provider, a second school, a reset link for the demo teacher) and collects
the real ids and codes the hooks (hooks.py) feed into paths and bodies:
schools, classes, users, learners, tokens, roles, providers, class codes,
access codes, parent access codes, a reset link's token and its code.

Writes OUT_JSON: {"runs": {"lead": {...}, "admin": {...}}, "pools": {...}}.
Standard library only; exits non-zero with a line on stderr on failure.
"""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import http.cookiejar
import json
import re
import struct
import sys
import time
import urllib.error
import urllib.request
from email import policy
from pathlib import Path


class Client:
    """One person's cookie jar and CSRF token against the demo."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def call(self, method: str, path: str, body: object = None, expect: tuple[int, ...] = (200,)) -> object:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=60) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        if status not in expect:
            sys.exit(f"prepare: {method} {path} answered {status}: {text[:300]}")
        return json.loads(text) if text.strip() else None

    def sign_in(self, username: str, password: str) -> dict:
        answer = self.call("POST", "/api/v1/session", {"username": username, "password": password})
        self.csrf = answer["csrf_token"]
        return answer["user"]

    def cookie(self) -> str:
        for cookie in self.jar:
            if cookie.name.endswith("kw_session"):
                return f"{cookie.name}={cookie.value}"
        sys.exit("prepare: the sign-in set no session cookie")


def totp(secret: str, at: float) -> str:
    """The RFC 6238 code (SHA-1, 30 s, 6 digits) of `secret` at `at`."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def reset_mail(mail_dir: Path, deadline: float) -> tuple[str, str] | None:
    """The token and the code of the first reset-link email in `mail_dir`."""
    while time.time() < deadline:
        for path in sorted(mail_dir.glob("*.eml")) if mail_dir.is_dir() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            part = message.get_body(preferencelist=("plain",))
            text = part.get_content() if part is not None else ""
            token = re.search(r"/recovery/([A-Za-z0-9_-]{20,})", text)
            code = re.search(r"\b(\d{8})\b", text)
            if token and code:
                return token.group(1), code.group(1)
        time.sleep(0.2)
    return None


def main() -> None:
    url, data_dir, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    passwords = {}
    for line in (data_dir / "demo-accounts.txt").read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) == 3 and not line.startswith("#"):
            passwords[fields[1]] = fields[2]

    lead, admin = Client(url), Client(url)
    lead_me = lead.sign_in("demo.lead", passwords["demo.lead"])
    admin_me = admin.sign_in("demo.admin", passwords["demo.admin"])
    school = lead_me["school_id"]

    # Both with an authenticator app: only administrators who use one may
    # reset other people's credentials or connect sign-in providers.
    for client, username in ((lead, "demo.lead"), (admin, "demo.admin")):
        enrolment = client.call("POST", "/api/v1/me/mfa/totp", {"password": passwords[username]})
        client.call("POST", "/api/v1/me/mfa/totp/confirm", {"code": totp(enrolment["secret"], time.time())})

    # Rows the demo lacks.
    roles = [
        lead.call(
            "POST",
            f"/api/v1/schools/{school}/roles",
            {"name": "Fuzz helpers", "permissions": ["users.view", "learners.view"]},
            expect=(201,),
        )["id"]
    ]
    lead_token = lead.call("POST", "/api/v1/tokens", {"name": "fuzz", "permissions": ["users.view"]}, expect=(201,))
    admin_token = admin.call("POST", "/api/v1/tokens", {"name": "fuzz", "permissions": ["users.view"]}, expect=(201,))
    provider = lead.call(
        "POST",
        f"/api/v1/schools/{school}/sso-providers",
        {"name": "Fuzz IdP", "issuer": "https://idp.example", "client_id": "keyward", "client_secret": "not-a-secret"},
        expect=(201,),
    )
    other_school = admin.call("POST", "/api/v1/schools", {"name": "Fuzz Primary"}, expect=(201,))

    # A reset link for the demo teacher (who must have signed in once).
    Client(url).sign_in("demo.teacher", passwords["demo.teacher"])
    Client(url).call("POST", "/api/v1/recovery", {"username": "demo.teacher"}, expect=(202,))
    mail = reset_mail(data_dir / "mail", time.time() + 30)

    classes = lead.call("GET", "/api/v1/classes")
    users = lead.call("GET", "/api/v1/users?per_page=100")["users"]
    access_codes, parent_codes = [], []
    for user in users:
        one = lead.call("GET", f"/api/v1/users/{user['id']}")
        if one.get("access_code"):
            access_codes.append(one["access_code"])
        if one.get("parent_access_code"):
            parent_codes.append(one["parent_access_code"])

    pools = {
        "school": [school, other_school["id"]],
        "class": [c["id"] for c in classes],
        "user": [u["id"] for u in users] + [admin_me["id"]],
        "learner": [u["id"] for u in users if u["role"] == "learner"],
        "staff": [u["id"] for u in users if u["role"] in ("teacher", "lead_teacher")],
        "role": roles,
        "sso_provider": [provider["id"]],
        "class_code": [c["class_code"] for c in classes if c.get("class_code")],
        "access_code": access_codes,
        "parent_access_code": parent_codes,
        "reset_token": [mail[0]] if mail else [],
        "reset_code": [mail[1]] if mail else [],
    }
    runs = {
        "lead": {"cookie": lead.cookie(), "csrf": lead.csrf, "self": lead_me["id"], "role": "lead_teacher",
                 "token": [lead_token["id"]], "school": school},
        "admin": {"cookie": admin.cookie(), "csrf": admin.csrf, "self": admin_me["id"], "role": "platform_admin",
                  "token": [admin_token["id"]]},
    }
    out.write_text(json.dumps({"runs": runs, "pools": pools}, indent=1))
    counts = ", ".join(f"{len(v)} {k}" for k, v in pools.items())
    print(f"prepare: real ids: {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
