"""Authorization code + PKCE against the fixture, stdlib only. usage: flow.py PORT CLIENT_ID USER [mfa]"""
import base64, hashlib, http.cookiejar, json, secrets, sys, urllib.parse, urllib.request

port, client_id, user = sys.argv[1], sys.argv[2], sys.argv[3]
mfa = len(sys.argv) > 4
base = f"http://127.0.0.1:{port}"
redirect_uri = "http://127.0.0.1:8080/sso/callback"

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None

jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

def go(url, data=None, headers={}):
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        r = opener.open(req)
        return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()

disc = json.load(urllib.request.urlopen(base + "/.well-known/openid-configuration"))
verifier = secrets.token_urlsafe(48)
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
q = urllib.parse.urlencode(dict(response_type="code", client_id=client_id, redirect_uri=redirect_uri,
    scope="openid email profile", state=state, nonce=nonce, code_challenge=challenge, code_challenge_method="S256"))
st, h, body = go(disc["authorization_endpoint"] + "?" + q)
print("auth", st, h.get("location"))
loc = urllib.parse.urljoin(base, h["location"])
st, h, body = go(loc)
print("login page", st, len(body))
form = {"username": user, "password": "x"}
if mfa: form["mfa"] = "1"
st, h, body = go(loc, urllib.parse.urlencode(form).encode(), {"content-type": "application/x-www-form-urlencoded"})
print("submit", st, h.get("location"))
loc = urllib.parse.urljoin(base, h["location"])
for _ in range(5):
    if loc.startswith(redirect_uri): break
    st, h, body = go(loc)
    print("follow", st, h.get("location"))
    loc = urllib.parse.urljoin(base, h["location"])
params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
print("callback params", params)
assert params.get("state") == state, "state"
if "code" not in params: sys.exit(1)
basic = base64.b64encode(f"{client_id}:kw-secret".encode()).decode()
st, h, body = go(disc["token_endpoint"], urllib.parse.urlencode(dict(grant_type="authorization_code", code=params["code"],
    redirect_uri=redirect_uri, code_verifier=verifier)).encode(),
    {"authorization": "Basic " + basic, "content-type": "application/x-www-form-urlencoded"})
tok = json.loads(body)
print("token", st, {k: (v if k != "id_token" else "...") for k, v in tok.items()})
if "id_token" in tok:
    hdr, pl, _ = tok["id_token"].split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)
    print("header", json.loads(base64.urlsafe_b64decode(pad(hdr))))
    claims = json.loads(base64.urlsafe_b64decode(pad(pl)))
    print("claims", claims)
    print("nonce ok", claims.get("nonce") == nonce)
    open(f"idtoken-{client_id}.jwt", "w").write(tok["id_token"])
