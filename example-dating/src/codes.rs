//! The app's one error path, and the API's business codes (docs/src/dating/api/conventions.md).
//!
//! Every handler, loader and guard returns `Result<_, AppError>`: `?` on a database or store
//! call turns its failure into 50301 (details in the log, never in the response), and the
//! functions below build every refusal of the contract — this is the only module that does.
//! The HTTP status follows the code's class.

use http::StatusCode;
use http::header::{HeaderValue, RETRY_AFTER};
use kotori::{IntoReply, Rejection, Reply};
use sea_orm::{DbErr, SqlErr};

use crate::store::StoreError;

/// The code of a dependency failure.
pub const UNAVAILABLE: u32 = 50301;

fn code(status: StatusCode, code: u32, msg: impl Into<String>) -> AppError {
    AppError::Refused(Rejection::new(status, code, msg.into()))
}

/// 40001: a required parameter is missing.
pub fn missing(name: &str) -> AppError {
    code(
        StatusCode::BAD_REQUEST,
        40001,
        format!("missing parameter: {name}"),
    )
}

/// 40002: a parameter is malformed, out of range, or given twice.
pub fn malformed(name: &str, why: &str) -> AppError {
    code(
        StatusCode::BAD_REQUEST,
        40002,
        format!("bad parameter {name}: {why}"),
    )
}

/// 40101: `appkey` missing or unknown.
pub fn bad_appkey() -> AppError {
    code(StatusCode::UNAUTHORIZED, 40101, "appkey missing or unknown")
}

/// 40102: `timestamp` missing or outside the window.
pub fn bad_timestamp() -> AppError {
    code(
        StatusCode::UNAUTHORIZED,
        40102,
        "timestamp missing or outside the accepted window",
    )
}

/// 40103: `nonce` missing, or the request was seen already.
pub fn replayed() -> AppError {
    code(
        StatusCode::UNAUTHORIZED,
        40103,
        "nonce missing or already used (replay)",
    )
}

/// 40104: `sign` missing or wrong.
pub fn bad_sign() -> AppError {
    code(StatusCode::UNAUTHORIZED, 40104, "sign missing or wrong")
}

/// 40105: `token` missing, unknown, expired or revoked.
pub fn bad_token() -> AppError {
    code(
        StatusCode::UNAUTHORIZED,
        40105,
        "token missing, unknown, expired or revoked",
    )
}

/// 40106: SMS code wrong or expired.
pub fn bad_sms_code() -> AppError {
    code(StatusCode::UNAUTHORIZED, 40106, "SMS code wrong or expired")
}

/// 40105 on the console: the operator's name or password is wrong.
pub fn bad_operator_login() -> AppError {
    code(StatusCode::UNAUTHORIZED, 40105, "name or password wrong")
}

/// 40301: the caller lacks the role or privilege.
pub fn forbidden() -> AppError {
    code(StatusCode::FORBIDDEN, 40301, "forbidden")
}

/// 40301, for a console form (or any request carried by the console's cookie) that changes
/// something without the session's CSRF token.
pub fn bad_csrf() -> AppError {
    code(
        StatusCode::FORBIDDEN,
        40301,
        "the form's CSRF token is missing or wrong: reload the page and try again",
    )
}

/// 40303: the account is banned.
pub fn banned() -> AppError {
    code(StatusCode::FORBIDDEN, 40303, "account banned")
}

/// 40302: the route is for VIPs only.
pub fn vip_required() -> AppError {
    code(StatusCode::FORBIDDEN, 40302, "VIP required")
}

/// 40304: the caller is muted in this live room.
pub fn muted() -> AppError {
    code(StatusCode::FORBIDDEN, 40304, "muted in this live room")
}

/// 40401: not found (or not the caller's to know about).
pub fn not_found() -> AppError {
    code(StatusCode::NOT_FOUND, 40401, "not found")
}

/// 40401 for a parameter that names something that does not exist — a product, an order's
/// trade number, a label — as for an unknown id in the path (and as the contract answers for
/// an unknown `user_id` to block or report): the message names the parameter.
pub fn unknown(name: &str) -> AppError {
    code(
        StatusCode::NOT_FOUND,
        40401,
        format!("not found: no such {name}"),
    )
}

/// 40901: conflict with the current state.
pub fn conflict(msg: impl Into<String>) -> AppError {
    code(StatusCode::CONFLICT, 40901, msg)
}

/// 42901: rate limited; `Retry-After` says when to retry.
pub fn rate_limited(retry_after_secs: u64) -> AppError {
    let rejection = Rejection::new(StatusCode::TOO_MANY_REQUESTS, 42901, "rate limited")
        .with_header(RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
    AppError::Refused(rejection)
}

/// 50001: internal error; the details go to the log, never to the client.
pub fn internal() -> AppError {
    code(StatusCode::INTERNAL_SERVER_ERROR, 50001, "internal error")
}

/// 50301: a dependency is unavailable; nothing was half-written.
pub fn unavailable(dependency: &str) -> AppError {
    code(
        StatusCode::SERVICE_UNAVAILABLE,
        UNAVAILABLE,
        format!("{dependency} unavailable"),
    )
}

/// The message a refusal answers with, spelled as this API spells it. kotori's own refusals —
/// no route for the path, a method the path does not serve, a body past the limit — carry
/// their status's reason phrase ("Not Found"), where the app's refusals of the same codes say
/// "not found": a client reading `msg` should see one spelling of a code, whoever refused (and
/// an unparsable id and an unknown one should not tell each other apart).
pub fn message_of(rejection: &Rejection) -> &str {
    if rejection.status().canonical_reason() != Some(rejection.message()) {
        return rejection.message();
    }
    match rejection.code() {
        40401 => "not found",
        40501 => "method not allowed",
        40801 => "request timeout: the request was not received in time",
        41301 => "request body too large",
        41401 => "request URI too long",
        43101 => "request header fields too large",
        50001 => "internal error",
        50301 => "service unavailable",
        _ => rejection.message(),
    }
}

/// Why a request did not succeed.
#[derive(Debug)]
pub enum AppError {
    /// A refusal with a business code of docs/src/dating/api/conventions.md, built by this module's functions.
    Refused(Rejection),
    /// The database failed: 50301, nothing half-written (multi-row writes are transactions).
    Database(DbErr),
    /// The store failed: 50301; requests that need it fail closed.
    Store(StoreError),
}

impl AppError {
    /// The rejection the client sees; failures of a dependency are logged here, once.
    pub fn into_rejection(self) -> Rejection {
        match self {
            AppError::Refused(rejection) => rejection,
            // A unique key refused the write: a real conflict with what is stored, not an outage.
            AppError::Database(e)
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                tracing::info!(error = %e, "a write conflicted with a unique key");
                conflict("conflicts with the current state").into_rejection()
            }
            AppError::Database(e) => {
                tracing::warn!(error = %e, "database call failed");
                unavailable("database").into_rejection()
            }
            AppError::Store(e) => {
                tracing::warn!(error = %e, "store call failed");
                unavailable("store").into_rejection()
            }
        }
    }

    /// The refusal's business code: 40901 for a write a unique key refused, 50301 for a
    /// dependency failure.
    pub fn code(&self) -> u32 {
        match self {
            AppError::Refused(rejection) => rejection.code(),
            AppError::Database(e)
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                40901
            }
            AppError::Database(_) | AppError::Store(_) => UNAVAILABLE,
        }
    }
}

impl From<Rejection> for AppError {
    fn from(rejection: Rejection) -> Self {
        AppError::Refused(rejection)
    }
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        AppError::Database(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Store(e)
    }
}

impl IntoReply for AppError {
    fn into_reply(self) -> Reply {
        Reply::Rejection(self.into_rejection())
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Refused(r) => write!(f, "refused: {} {}", r.code(), r.message()),
            AppError::Database(e) => write!(f, "database: {e}"),
            AppError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AppError {}
