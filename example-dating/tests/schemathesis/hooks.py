"""Schemathesis hooks for example-dating: sign every request the way docs/src/dating/signing.md describes (v1)
and supply the caller's credentials, so that generated requests reach the handlers instead of
stopping at the signature guard.

Configured by environment variables the Rust harness (tests/schemathesis.rs) sets:
KOTORI_ST_BASE (the server), KOTORI_ST_USER_ID (the caller, never banned), KOTORI_ST_APP and KOTORI_ST_PAY ("appkey:secret" of the client
app and the payment provider), KOTORI_ST_TOKEN (a user's session), KOTORI_ST_ADMIN and
KOTORI_ST_HOST (operator tokens of an admin holding every privilege, and of a host).
"""

import hashlib
import os
import secrets
import time

import requests
import schemathesis

SIGNING = {"appkey", "timestamp", "nonce", "sign", "token"}


def _pair(name):
    key, secret = os.environ[name].split(":", 1)
    return key, secret


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _flatten(params):
    """The parameters as (key, text) pairs, as the form encoding will send them."""
    out = []
    for key, value in (params or {}).items():
        if isinstance(value, list):
            out.extend((key, _text(v)) for v in value)
        else:
            out.append((key, _text(value)))
    return out


def sign_v1(pairs, token, timestamp, nonce, secret):
    msg = "&".join(sorted(f"{k}={v}" for k, v in pairs if k not in SIGNING))
    raw = msg + token + timestamp + nonce + secret
    return hashlib.md5(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _signed_query(app, query, body_pairs, token):
    key, secret = _pair(app)
    query = {
        k: [_text(x) for x in v] if isinstance(v, list) else _text(v)
        for k, v in (query or {}).items()
        if k not in SIGNING
    }
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(8)
    pairs = _flatten(query) + body_pairs
    query.update(appkey=key, timestamp=timestamp, nonce=nonce)
    if token:
        query["token"] = token
    query["sign"] = sign_v1(pairs, token or "", timestamp, nonce, secret)
    return query


def fresh_token():
    """A new user's session: for the operations that end the caller's (logout, deletion)."""
    base = os.environ["KOTORI_ST_BASE"]
    phone = "139%08d" % secrets.randbelow(10**8)

    def post(path, params):
        query = _signed_query("KOTORI_ST_APP", {}, list(params.items()), None)
        return requests.post(base + path, params=query, data=params, timeout=10).json()

    sent = post("/api/auth/sendsms", {"phone": phone})
    assert sent["code"] == 0, sent
    session = post("/api/auth/login", {"phone": phone, "code": sent["data"]["code"]})
    assert session["code"] == 0, session
    return session["data"]["token"]


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    path = case.operation.path
    # The caller's own account stays usable: bans go to someone else.
    if path.endswith("/ban.json") and case.path_parameters:
        if str(case.path_parameters.get("user_id")) == os.environ["KOTORI_ST_USER_ID"]:
            case.path_parameters["user_id"] = int(os.environ["KOTORI_ST_USER_ID"]) + 1
    if path.startswith("/manage/"):
        token = os.environ["KOTORI_ST_HOST" if "/shops/" in path else "KOTORI_ST_ADMIN"]
        case.headers = dict(case.headers or {})
        case.headers["Authorization"] = f"Bearer {token}"
        return
    if path.startswith("/pay/"):
        app, token = "KOTORI_ST_PAY", None
    elif path.startswith("/api/"):
        app = "KOTORI_ST_APP"
        if path in ("/api/auth/sendsms", "/api/auth/login"):
            token = None
        elif path in ("/api/auth/logout", "/api/me/delete"):
            token = fresh_token()
        else:
            token = os.environ["KOTORI_ST_TOKEN"]
    else:
        return
    body_pairs = []
    if isinstance(case.body, dict):
        # Sent as text exactly as signed (requests would write True where we signed true).
        case.body = {
            k: [_text(x) for x in v] if isinstance(v, list) else _text(v)
            for k, v in case.body.items()
            if k not in SIGNING
        }
        body_pairs = _flatten(case.body)
    case.query = _signed_query(app, case.query, body_pairs, token)
