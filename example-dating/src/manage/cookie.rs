//! The console's browser session: the operator token in a cookie, and the CSRF token that
//! every state-changing request carried by that cookie must send back.
//!
//! The cookie holds the same kind of token `POST /manage/login.json` answers (a row of
//! `operator_token`), so one loader serves both: a bearer header for API clients, the cookie
//! for browsers. A browser attaches cookies to requests other sites make it send, so a request
//! authenticated by the cookie that changes anything (any method but GET and HEAD) must also
//! carry the session's CSRF token — a value a page of ours shows and another site cannot read.

use http::Method;
use http::header::{COOKIE, HeaderValue};
use kotori::Ctx;
use sha2::{Digest, Sha256};

use crate::hex;
use crate::state::AppState;

/// The cookie's name.
pub const COOKIE_NAME: &str = "kotori_console";
/// The form field (or `X-CSRF-Token` header) that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The session token the request's cookie carries, if any.
pub fn token_of<S>(cx: &Ctx<S>) -> Option<&str> {
    cx.headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim())
}

/// The CSRF token of a session: derived from its token by a one-way hash, so it needs no
/// storage, dies with the session, and reveals nothing of the cookie it stands for.
pub fn csrf_of(session: &str) -> String {
    let digest = Sha256::digest(format!("kotori console csrf\0{session}").as_bytes());
    hex::encode(&digest[..16])
}

/// Whether `method` changes something (and so needs the CSRF token under a cookie).
pub fn changes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD)
}

/// Compares in time independent of where the strings differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether the browser reached us over TLS: the request came through a trusted proxy that
/// says `X-Forwarded-Proto: https` (the app itself serves plain HTTP behind nginx).
pub fn over_tls(cx: &Ctx<AppState>) -> bool {
    let proxied = cx
        .peer_addr()
        .is_some_and(|peer| cx.state().config.trusted_proxies.contains(peer.ip()));
    proxied && cx.header("x-forwarded-proto") == Some("https")
}

/// The `Set-Cookie` value that stores `token` for `max_age` seconds (0: deletes it).
/// `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it),
/// `Path=/manage`, and `Secure` when the browser came over TLS.
pub fn set_cookie(token: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE_NAME}={token}; Path=/manage; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    HeaderValue::from_str(&value).expect("a token is hex digits")
}
