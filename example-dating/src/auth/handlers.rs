//! `POST /api/auth/sendsms`, `/api/auth/login`, `/api/auth/logout`.

use std::time::Duration;

use kotori::{Json, Res, State};
use serde_json::{Value, json};

use super::ClientAddress;
use super::session::Caller;
use super::sms;
use crate::clock;
use crate::codes::{self, AppError};
use crate::envelope::ok;
use crate::params::Params;
use crate::people::{self, Change, account, phone};
use crate::random;
use crate::state::AppState;

/// The `phone` parameter in its one form (E.164): every limit and lookup uses it.
fn phone_param(params: &Params) -> Result<String, AppError> {
    phone::canonical(params.required("phone")?)
}

/// Sends a six-digit code to `phone`, within the per-phone and per-client limits (counted for
/// the number, however it is spelled). The answer echoes `phone` as the client sent it.
pub async fn send_sms(
    params: Res<Params>,
    address: ClientAddress,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let phone = phone_param(&params)?;
    let sent = params.required("phone")?.to_owned();
    let client = address.key();
    let code = random::sms_code();
    let ttl = Duration::from_secs(state.config.sms.code_ttl_secs);
    let daily = state.config.sms.per_client_daily;
    sms::take_and_remember(&*state.store, &phone, &client, daily, &code, ttl).await?;
    if let Err(e) = state.sms.send(&phone, &code).await {
        tracing::warn!(error = %e, "the SMS provider failed");
        sms::give_back(&*state.store, &phone, &client).await;
        return Err(codes::unavailable("SMS provider"));
    }
    Ok(if state.config.sms.echo_code {
        ok(json!({ "phone": sent, "code": code }))
    } else {
        ok(json!({ "phone": sent }))
    })
}

/// Checks the code, registers the phone on first login, and opens a session.
#[kotori::handler]
pub async fn login(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let phone = phone_param(&params)?;
    let code = params.required("code")?;
    let ttl = Duration::from_secs(state.config.sms.code_ttl_secs);
    sms::redeem(&*state.store, &phone, code, ttl).await?;
    let session = state.logins().open(&phone).await?;
    if session.registered {
        people::changed(&state, Change::Registered).await;
    }
    Ok(ok(json!({
        "token": session.token,
        "expire_time": clock::format(session.expire_at),
        "user_id": session.user_id,
    })))
}

/// Ends the session of the token sent, on every instance.
#[kotori::handler]
pub async fn logout(
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    account::log_out(&state, caller.user_id, &caller.token).await?;
    Ok(ok(json!({})))
}

/// What send_sms reads and answers, for `/openapi.json`.
pub fn send_sms_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(required("phone", phone()))
        .refuses(
            429,
            42901,
            "one code per phone and minute, and a daily limit per client",
        )
        .success(json!({"type": "object", "required": ["phone"],
            "properties": {"phone": {"type": "string"}, "code": {"type": "string"}}}))
}

/// What login reads and answers, for `/openapi.json`.
pub fn login_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(required("phone", phone()))
        .param(required(
            "code",
            json!({"type": "string", "pattern": "^[0-9]{6}$"}),
        ))
        .refuses(401, 40106, "SMS code wrong or expired")
        .refuses(403, 40303, "account banned")
        .success(
            json!({"type": "object", "required": ["token", "expire_time", "user_id"],
            "properties": {"token": {"type": "string"}, "expire_time": {"type": "string"},
                           "user_id": {"type": "integer"}}}),
        )
}

/// What logout answers, for `/openapi.json`.
pub fn logout_doc() -> kotori::openapi::Declares {
    crate::openapi::answers(crate::openapi::empty())
}
