#!/usr/bin/env python3
"""Signing requests for the dating API (v1 and v2), standard library only.

Run it to check it against the vectors of the API contract:  python3 sign.py
"""
import hashlib
import hmac
import time
import urllib.parse
import uuid

RESERVED = {"appkey", "timestamp", "nonce", "sign", "token"}


def sign_v1(params, token, timestamp, nonce, secret):
    """md5(msg + token + timestamp + nonce + secret); msg = sorted "k=v" strings joined by &."""
    items = sorted(f"{k}={v}" for k, v in params.items() if k not in RESERVED)
    # Sort by code point of the UTF-8 strings: Python compares str by code point, which for
    # UTF-8 is the same order as comparing the bytes.
    msg = "&".join(items)
    return hashlib.md5((msg + (token or "") + timestamp + nonce + secret).encode()).hexdigest()


def _enc(s):
    return urllib.parse.quote(s, safe="-._~")


def sign_v2(method, path, params, appkey, token, timestamp, nonce, secret):
    """HMAC-SHA256 over METHOD, PATH, canonical QUERY, appkey, token, timestamp, nonce."""
    pairs = sorted((_enc(k), _enc(v)) for k, v in params.items() if k not in RESERVED)
    query = "&".join(f"{k}={v}" for k, v in pairs)
    canonical = "\n".join([method, path, query, appkey, token or "", timestamp, nonce])
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def signed_params(params, appkey, secret, token=None, scheme="v1", method="POST", path="/"):
    """The parameters to send: yours plus appkey, timestamp, nonce, token and sign."""
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    out = dict(params, appkey=appkey, timestamp=timestamp, nonce=nonce)
    if token:
        out["token"] = token
    if scheme == "v1":
        out["sign"] = sign_v1(params, token, timestamp, nonce, secret)
    else:
        out["sign"] = sign_v2(method, path, params, appkey, token, timestamp, nonce, secret)
    return out


if __name__ == "__main__":
    assert sign_v1({"phone": "18922986865"}, None, "1564486841415", "34C2AF", "1AE32B09224") == "6e308bf74512cd4b34f5395993ee9165"
    assert sign_v1({"nickname": "小明", "a_b": "2", "a": "1", "empty": ""}, "5bea89727e7553284f162d35c9926414", "1564486841", "n0nce", "1AE32B09224") == "c88a723451f2001fc67f3fc66190c065"
    assert sign_v1({"a": "1", "a1": "2"}, None, "1700000000", "xyz", "1AE32B09224") == "ca2a2a584012b3fb0cfb54109cf6a118"
    assert sign_v2("POST", "/api/me/update", {"nickname": "小明", "height": "170", "bio": "a&b=c d"}, "V2KEY", "5bea89727e7553284f162d35c9926414", "1700000000", "a1b2c3", "s3cr3t") == "9e2ecd0faf7fd24ba990be04a6440136366c91c762026c5390ae7ae6e7486791"
    print("OK: all four vectors")
