//! Operator sessions: `POST /manage/login.json` and the `/manage` operator loader.

use std::sync::LazyLock;
use std::time::Duration;

use http::header::AUTHORIZATION;
use kotori::{Ctx, Json, Res};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::operators::Operator;
use super::operators::{hash_password, verify_password};
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::rooms::{operator, operator_token};
use crate::envelope::ok;
use crate::params::Params;
use crate::people::sessions;
use crate::random;
use crate::state::AppState;

/// Failed logins allowed per operator name, and per client address, in [`FAILURE_WINDOW`].
pub const FAILURES_PER_NAME: i64 = 5;
/// Failed logins allowed per client address in [`FAILURE_WINDOW`].
pub const FAILURES_PER_CLIENT: i64 = 20;
/// The window the failure counters cover.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Password hashes checked at once: each takes tens of milliseconds of a core and 19 MiB, so
/// a login flood queues here instead of taking every thread and the memory.
const HASHING_AT_ONCE: usize = 2;
/// How long a login waits for its turn to hash before it is told to come back.
const HASHING_WAIT: Duration = Duration::from_secs(2);

/// Checks name and password; answers a 12-hour token. A wrong name or password is the same
/// 40105, after the same work (a password hash is always checked). After 5 failures for a name,
/// or 20 from one client address, in 15 minutes, logins are 42901 with `Retry-After` until the
/// window passes; a success clears the name's count.
#[kotori::handler]
pub async fn login(cx: &mut Ctx<AppState>, params: Res<Params>) -> Result<Json<Value>, AppError> {
    let state = cx.state().clone();
    let name = params.required("name")?.to_owned();
    let password = params.required("password")?.to_owned();
    let client = state
        .config
        .trusted_proxies
        .client(cx.peer_addr(), cx.headers())
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let counters = [
        (format!("oplogin:name:{name}"), FAILURES_PER_NAME),
        (format!("oplogin:client:{client}"), FAILURES_PER_CLIENT),
    ];
    for (key, limit) in &counters {
        let failures = state
            .store
            .get(key)
            .await?
            .and_then(|n| n.parse::<i64>().ok());
        if failures.is_some_and(|n| n >= *limit) {
            let left = state.store.ttl(key).await?.unwrap_or(FAILURE_WINDOW);
            return Err(codes::rate_limited(left.as_secs()));
        }
    }
    let found = operator::Entity::find()
        .filter(operator::Column::Name.eq(name.as_str()))
        .one(&state.db)
        .await?;
    // Verify against a dummy hash when the name is unknown, so timing does not reveal names.
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash_password("not the password of anyone"));
    let hash = found
        .as_ref()
        .map_or_else(|| DUMMY.clone(), |o| o.password_hash.clone());
    static HASHING: Semaphore = Semaphore::const_new(HASHING_AT_ONCE);
    let Ok(Ok(_turn)) = tokio::time::timeout(HASHING_WAIT, HASHING.acquire()).await else {
        return Err(codes::rate_limited(1));
    };
    // Off the async threads: a hash is tens of milliseconds of pure computation.
    let valid = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(op) = found.filter(|_| valid) else {
        for (key, _) in &counters {
            state.store.incr(key, FAILURE_WINDOW).await?;
        }
        return Err(codes::bad_operator_login());
    };
    state.store.del(&counters[0].0).await?;
    let token = random::hex_token(16);
    let now = clock::now();
    let expire_at = now + state.config.operator_token_secs as i64;
    operator_token::ActiveModel {
        token: Set(token.clone()),
        operator_id: Set(op.id),
        expire_at: Set(expire_at),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(
        json!({ "token": token, "expire_time": clock::format(expire_at), "operator_id": op.id, "role": op.role }),
    ))
}

/// The operator of the bearer token; 40105 without a live one.
#[kotori::loader]
pub async fn load_operator(cx: &mut Ctx<AppState>) -> Result<Operator, AppError> {
    let token = cx
        .header(AUTHORIZATION)
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| sessions::is_token(t))
        .ok_or_else(codes::bad_token)?
        .to_owned();
    let state = cx.state().clone();
    let operator_id = sessions::cached_owner(&state, &format!("optok:{token}"), async || {
        let row = operator_token::Entity::find_by_id(token.clone())
            .one(&state.db)
            .await?;
        Ok(row.map(|r| (r.operator_id, r.expire_at)))
    })
    .await?;
    let operator_id = operator_id.ok_or_else(codes::bad_token)?;
    let op = operator::Entity::find_by_id(operator_id)
        .one(&state.db)
        .await?
        .ok_or_else(codes::bad_token)?;
    Ok(Operator::from_row(&op))
}

/// What load_operator reads and answers, for `/openapi.json`.
pub fn load_operator_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new().security("operator_bearer").refuses(
        401,
        40105,
        "operator token missing, unknown or expired",
    )
}

/// What login reads and answers, for `/openapi.json`.
pub fn login_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(required("name", text(1, 64)))
        .param(required("password", text(1, 256)))
        .refuses(401, 40105, "name or password wrong")
        .refuses(
            429,
            42901,
            "too many failed logins for this name or address",
        )
}
