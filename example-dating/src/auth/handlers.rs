//! `POST /api/auth/sendsms`, `/api/auth/login`, `/api/auth/logout`.

use std::time::Duration;

use kotori::{Ctx, Json, Res, State};
use sea_orm::sea_query::Query;
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, SqlErr};
use serde_json::{Value, json};

use super::logins::Opened;
use super::session::{self, Caller};
use super::sms;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::users::{user_auth, user_info};
use crate::envelope::ok;
use crate::params::Params;
use crate::random;
use crate::realtime::Route;
use crate::state::AppState;

fn phone_param(params: &Params) -> Result<String, AppError> {
    let phone = params.required("phone")?;
    if !sms::valid_phone(phone) {
        return Err(codes::malformed(
            "phone",
            "an optional + and 6 to 15 digits",
        ));
    }
    Ok(phone.to_owned())
}

/// Sends a six-digit code to `phone`, within the per-phone and per-client limits.
#[kotori::handler]
pub async fn send_sms(
    cx: &mut Ctx<AppState>,
    params: Res<Params>,
) -> Result<Json<Value>, AppError> {
    let phone = phone_param(&params)?;
    let state = cx.state().clone();
    let client = state
        .config
        .trusted_proxies
        .client(cx.peer_addr(), cx.headers())
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    sms::check_limits(
        &*state.store,
        &phone,
        &client,
        state.config.sms.per_client_daily,
    )
    .await?;
    let code = random::sms_code();
    let ttl = Duration::from_secs(state.config.sms.code_ttl_secs);
    sms::remember(&*state.store, &phone, &code, ttl).await?;
    if let Err(e) = state.sms.send(&phone, &code).await {
        tracing::warn!(error = %e, "the SMS provider failed");
        return Err(codes::unavailable("SMS provider"));
    }
    Ok(if state.config.sms.echo_code {
        ok(json!({ "phone": phone, "code": code }))
    } else {
        ok(json!({ "phone": phone }))
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
    let (user, (token, expire_at)) = match state.logins().open(&phone).await {
        Opened::Session {
            user,
            session,
            registered,
        } => {
            if registered {
                crate::users::hot::forget_total(&*state.store).await;
            }
            (*user, session)
        }
        Opened::Banned => return Err(codes::banned()),
        Opened::Failed(e) => return Err(DbErr::Custom(e).into()),
        Opened::Alone => login_alone(&state, &phone).await?,
    };
    Ok(ok(
        json!({ "token": token, "expire_time": clock::format(expire_at), "user_id": user.user_id }),
    ))
}

/// A login by itself, in its own statements: what a group that could not be written falls
/// back to (auth::logins).
async fn login_alone(
    state: &AppState,
    phone: &str,
) -> Result<(user_info::Model, (String, i64)), AppError> {
    match find_user(state, phone).await? {
        Some(user) => open_session(state, user).await,
        None => register(state, phone).await,
    }
}

/// Ends the session of the token sent, on every instance.
#[kotori::handler]
pub async fn logout(
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    session::revoke(&state, &caller.token).await?;
    let bye = Route::Close(caller.user_id, "logout".into());
    state.hub.publish(bye, Value::Null, None).await;
    Ok(ok(json!({})))
}

/// The user whose phone identity is `phone`, in one statement (every statement is a round
/// trip to the database's thread, and the login flow is made of them).
async fn find_user(state: &AppState, phone: &str) -> Result<Option<user_info::Model>, AppError> {
    let identity = Query::select()
        .column(user_auth::Column::UserId)
        .from(user_auth::Entity)
        .and_where(user_auth::Column::LoginType.eq("phone"))
        .and_where(user_auth::Column::Identifier.eq(phone))
        .to_owned();
    Ok(user_info::Entity::find()
        .filter(user_info::Column::UserId.in_subquery(identity))
        .one(&state.db)
        .await?)
}

/// Registers `phone` and opens its first session: profile, identity and session are written in
/// one transaction (one trip fewer to the database than a separate session insert). Of two
/// concurrent first logins, the unique identity index lets one win; the other reads the
/// winner's user and opens a session of its own.
async fn register(
    state: &AppState,
    phone: &str,
) -> Result<(user_info::Model, (String, i64)), AppError> {
    let now = clock::now();
    let txn = crate::db::begin(&state.db).await?;
    let user = user_info::ActiveModel {
        nickname: Set(format!("u-{phone}")),
        phone: Set(phone.to_owned()),
        gender: Set(0),
        authority: Set(1),
        banned: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let identity = user_auth::ActiveModel {
        user_id: Set(user.user_id),
        login_type: Set("phone".into()),
        identifier: Set(phone.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    match identity {
        Ok(_) => {
            let session = session::issue_in(state, &txn, user.user_id).await?;
            txn.commit().await?;
            crate::users::hot::forget_total(&*state.store).await;
            Ok((user, session))
        }
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            let user = find_user(state, phone).await?.ok_or_else(codes::internal)?;
            open_session(state, user).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A new session for a registered `user`, who must not be banned (40303).
async fn open_session(
    state: &AppState,
    user: user_info::Model,
) -> Result<(user_info::Model, (String, i64)), AppError> {
    if user.banned {
        return Err(codes::banned());
    }
    let session = session::issue(state, user.user_id).await?;
    Ok((user, session))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use sea_orm::ActiveValue::Unchanged;
    use sea_orm::PaginatorTrait;

    /// The registration that loses the race for a phone (its identity insert hits the unique
    /// index) writes nothing of its own and opens a session for the winner's user — unless the
    /// winner is banned by then.
    #[tokio::test]
    async fn a_registration_that_loses_the_race_logs_into_the_winner() {
        let state = crate::startup::state(Config {
            database_url: "sqlite::memory:".into(),
            redis_url: None,
            ..Config::load(None, |_| None).unwrap()
        })
        .await
        .unwrap();
        let phone = "13800000009";
        let (winner, (first, _)) = register(&state, phone).await.unwrap();
        let users = || user_info::Entity::find().count(&state.db);
        let before = users().await.unwrap();

        let (loser, (second, _)) = register(&state, phone).await.unwrap();
        assert_eq!(loser.user_id, winner.user_id);
        assert_ne!(first, second, "a session of its own");
        assert_eq!(
            users().await.unwrap(),
            before,
            "its profile was rolled back"
        );

        user_info::ActiveModel {
            user_id: Unchanged(winner.user_id),
            banned: Set(true),
            ..Default::default()
        }
        .update(&state.db)
        .await
        .unwrap();
        let refused = register(&state, phone).await.unwrap_err();
        assert_eq!(refused.code(), codes::banned().code());
        assert_eq!(users().await.unwrap(), before);
    }
}
