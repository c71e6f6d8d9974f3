//! Sessions: user tokens, stored in the database, cached in the store, revocable everywhere.

use std::time::Duration;

use kotori::{Res, State};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};

use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::users::user_token;
use crate::params::Params;
use crate::state::AppState;

/// The logged-in caller, loaded by the token guard for every route that needs one.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user.
    pub user_id: i64,
    /// The token the request carried.
    pub token: String,
}

/// How long a token lookup is cached: revocation writes a tombstone, so this only bounds how
/// long the cache holds tokens nobody uses.
const CACHE_TTL: Duration = Duration::from_secs(600);
const REVOKED: &str = "revoked";

fn cache_key(token: &str) -> String {
    format!("tok:{token}")
}

/// The token guard: `token` must name a live session (40105 otherwise).
#[kotori::loader]
pub async fn load_caller(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Caller, AppError> {
    let token = params
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(codes::bad_token)?;
    let user_id = lookup(&state, token).await?.ok_or_else(codes::bad_token)?;
    Ok(Caller {
        user_id,
        token: token.to_owned(),
    })
}

/// The user of a live token, from the cache or the database.
pub async fn lookup(state: &AppState, token: &str) -> Result<Option<i64>, AppError> {
    if !is_token(token) {
        return Ok(None);
    }
    cached_owner(state, &cache_key(token), async || {
        let row = user_token::Entity::find_by_id(token.to_owned())
            .one(&state.db)
            .await?;
        Ok(row.map(|r| (r.user_id, r.expire_at)))
    })
    .await
}

/// Whether `token` has the shape of one this server issues: 32 hex digits.
pub fn is_token(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The owner of a live session, read through the store's cache: `key` holds `owner:expiry`
/// (or a revocation tombstone); on a miss, `load` reads (owner, expiry) from the database and
/// the answer is cached. Shared by user and operator sessions.
pub async fn cached_owner(
    state: &AppState,
    key: &str,
    load: impl AsyncFnOnce() -> Result<Option<(i64, i64)>, AppError>,
) -> Result<Option<i64>, AppError> {
    let now = clock::now();
    if let Some(cached) = state.store.get(key).await? {
        if cached == REVOKED {
            return Ok(None);
        }
        if let Some((owner, expire)) = cached.split_once(':') {
            if let (Ok(owner), Ok(expire)) = (owner.parse::<i64>(), expire.parse::<i64>()) {
                return Ok((expire > now).then_some(owner));
            }
        }
    }
    let Some((owner, expire_at)) = load().await?.filter(|(_, expire_at)| *expire_at > now) else {
        return Ok(None);
    };
    // `set_nx`: never overwrite a tombstone written by a revocation racing with this lookup.
    let ttl = CACHE_TTL.min(Duration::from_secs((expire_at - now) as u64));
    state
        .store
        .set_nx(key, &format!("{owner}:{expire_at}"), ttl)
        .await?;
    Ok(Some(owner))
}

/// Opens a session for `user_id`: a new 128-bit token (other devices keep theirs).
pub async fn issue(state: &AppState, user_id: i64) -> Result<(String, i64), AppError> {
    let session = user_token::new_session(user_id, clock::now(), state.config.user_token_secs);
    let issued = (session.token.clone(), session.expire_at);
    user_token::Entity::insert(session.into_active_model().reset_all())
        .exec_without_returning(&state.db)
        .await?;
    Ok(issued)
}

/// Ends one session, on every instance at once.
pub async fn revoke(state: &AppState, token: &str) -> Result<(), AppError> {
    user_token::Entity::delete_by_id(token.to_owned())
        .exec(&state.db)
        .await?;
    state
        .store
        .set(&cache_key(token), REVOKED, CACHE_TTL)
        .await?;
    Ok(())
}

/// Ends every session of a user (a ban).
pub async fn revoke_all(state: &AppState, user_id: i64) -> Result<(), AppError> {
    revoke_all_in(state, &state.db, user_id).await
}

/// [`revoke_all`] as part of a transaction (`db`): the rows go with it, the cache entries are
/// revoked at once — a rollback then only costs the user a new login.
pub async fn revoke_all_in(
    state: &AppState,
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<(), AppError> {
    let rows = user_token::Entity::find()
        .filter(user_token::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    user_token::Entity::delete_many()
        .filter(user_token::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    for row in rows {
        state
            .store
            .set(&cache_key(&row.token), REVOKED, CACHE_TTL)
            .await?;
    }
    Ok(())
}

/// What load_caller reads and answers, for `/openapi.json`.
pub fn load_caller_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new().security("token").refuses(
        401,
        40105,
        "token missing, unknown, expired or revoked",
    )
}
