//! The API's business codes (API.md §1) as rejections. The HTTP status follows the code's class.

use http::StatusCode;
use http::header::{HeaderValue, RETRY_AFTER};
use kotori::Rejection;

fn code(status: StatusCode, code: u32, msg: impl Into<String>) -> Rejection {
    Rejection::new(status, code, msg.into())
}

/// 40001: a required parameter is missing.
pub fn missing(name: &str) -> Rejection {
    code(
        StatusCode::BAD_REQUEST,
        40001,
        format!("missing parameter: {name}"),
    )
}

/// 40002: a parameter is malformed, out of range, or given twice.
pub fn malformed(name: &str, why: &str) -> Rejection {
    code(
        StatusCode::BAD_REQUEST,
        40002,
        format!("bad parameter {name}: {why}"),
    )
}

/// 40101: `appkey` missing or unknown.
pub fn bad_appkey() -> Rejection {
    code(StatusCode::UNAUTHORIZED, 40101, "appkey missing or unknown")
}

/// 40102: `timestamp` missing or outside the window.
pub fn bad_timestamp() -> Rejection {
    code(
        StatusCode::UNAUTHORIZED,
        40102,
        "timestamp missing or outside the accepted window",
    )
}

/// 40103: `nonce` missing, or the request was seen already.
pub fn replayed() -> Rejection {
    code(
        StatusCode::UNAUTHORIZED,
        40103,
        "nonce missing or already used (replay)",
    )
}

/// 40104: `sign` missing or wrong.
pub fn bad_sign() -> Rejection {
    code(StatusCode::UNAUTHORIZED, 40104, "sign missing or wrong")
}

/// 40105: `token` missing, unknown, expired or revoked.
pub fn bad_token() -> Rejection {
    code(
        StatusCode::UNAUTHORIZED,
        40105,
        "token missing, unknown, expired or revoked",
    )
}

/// 40106: SMS code wrong or expired.
pub fn bad_sms_code() -> Rejection {
    code(StatusCode::UNAUTHORIZED, 40106, "SMS code wrong or expired")
}

/// 40301: the caller lacks the role or privilege.
pub fn forbidden() -> Rejection {
    code(StatusCode::FORBIDDEN, 40301, "forbidden")
}

/// 40303: the account is banned.
pub fn banned() -> Rejection {
    code(StatusCode::FORBIDDEN, 40303, "account banned")
}

/// 40401: not found (or not the caller's to know about).
pub fn not_found() -> Rejection {
    code(StatusCode::NOT_FOUND, 40401, "not found")
}

/// 40901: conflict with the current state.
pub fn conflict(msg: impl Into<String>) -> Rejection {
    code(StatusCode::CONFLICT, 40901, msg)
}

/// 42901: rate limited; `Retry-After` says when to retry.
pub fn rate_limited(retry_after_secs: u64) -> Rejection {
    code(StatusCode::TOO_MANY_REQUESTS, 42901, "rate limited")
        .with_header(RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)))
}

/// 50001: internal error; the details go to the log, never to the client.
pub fn internal() -> Rejection {
    code(StatusCode::INTERNAL_SERVER_ERROR, 50001, "internal error")
}

/// 50301: a dependency is unavailable; nothing was half-written.
pub fn unavailable(dependency: &str) -> Rejection {
    code(
        StatusCode::SERVICE_UNAVAILABLE,
        50301,
        format!("{dependency} unavailable"),
    )
}
