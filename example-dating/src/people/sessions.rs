//! Sessions: user tokens, stored in the database, cached in the store, revocable everywhere.
//!
//! A token works only while its account is live. Three things keep it so, whatever the timing:
//! a session row is written only in a transaction that holds the user's row and saw it live
//! (the login writer, [`issue`]); every change that ends an account takes the same row lock and
//! revokes the rows it then reads with a lock, writing a tombstone over each cached token; and
//! a lookup that misses the cache reads the token with its account's standing.

use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};

use super::account;
use crate::clock;
use crate::codes::AppError;
use crate::db::entity::users::{user_info, user_token};
use crate::state::AppState;

/// How long a token lookup is cached: revocation writes a tombstone, so this only bounds how
/// long the cache holds tokens nobody uses.
const CACHE_TTL: Duration = Duration::from_secs(600);
const REVOKED: &str = "revoked";

/// The store key caching `token`'s session.
pub fn cache_key(token: &str) -> String {
    format!("tok:{token}")
}

/// A token's cached session, read ahead with the signature's replay marks in one store round
/// trip (`auth::signature`), for the token loader to use instead of reading it again.
#[derive(Clone, Debug)]
pub struct ReadAhead {
    /// The token it was read for.
    pub token: String,
    /// What the cache held (`None`: nothing).
    pub cached: Option<String>,
}

/// Whether `token` has the shape of one this server issues: 32 lowercase hex digits. Only
/// that spelling: a database may compare tokens without case (MariaDB's collation), and a
/// token respelled in capitals would be a second cache entry that a logout or a ban, which
/// tombstone the token as issued, would leave working.
pub fn is_token(token: &str) -> bool {
    token.len() == 32
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The user of a working token — a live session of a live account — from the cache (or what
/// was read of it ahead, `ahead`) or the database.
pub async fn lookup(
    state: &AppState,
    token: &str,
    ahead: Option<&ReadAhead>,
) -> Result<Option<i64>, AppError> {
    if !is_token(token) {
        return Ok(None);
    }
    let ahead = ahead.filter(|a| a.token == token).map(|a| a.cached.clone());
    cached_owner(state, &cache_key(token), ahead, async || {
        // The session with its account's standing, in one statement.
        let live = Query::select()
            .column((user_token::Entity, user_token::Column::UserId))
            .column((user_token::Entity, user_token::Column::ExpireAt))
            .from(user_token::Entity)
            .inner_join(
                user_info::Entity,
                Expr::col((user_info::Entity, user_info::Column::UserId))
                    .equals((user_token::Entity, user_token::Column::UserId)),
            )
            .and_where(Expr::col((user_token::Entity, user_token::Column::Token)).eq(token))
            .cond_where(account::live())
            .to_owned();
        let row = state.db.query_one(&live).await?;
        Ok(match row {
            Some(row) => Some((row.try_get("", "user_id")?, row.try_get("", "expire_at")?)),
            None => None,
        })
    })
    .await
}

/// The owner of a live session, read through the store's cache: `key` holds `owner:expiry`
/// (or a revocation tombstone) — `ahead` is what it held when read already; on a miss, `load`
/// reads (owner, expiry) from the database and the answer is cached.
async fn cached_owner(
    state: &AppState,
    key: &str,
    ahead: Option<Option<String>>,
    load: impl AsyncFnOnce() -> Result<Option<(i64, i64)>, AppError>,
) -> Result<Option<i64>, AppError> {
    let now = clock::now();
    let cached = match ahead {
        Some(cached) => cached,
        None => state.store.get(key).await?,
    };
    if let Some(cached) = cached {
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

/// Opens a session for `user_id` (other devices keep theirs): a new 128-bit token, written in
/// a transaction that holds the user's row and saw the account live (40303 if banned, 40105 if
/// deleted or unknown). Logins write theirs in groups (`auth::logins`) under the same rule.
pub async fn issue(state: &AppState, user_id: i64) -> Result<(String, i64), AppError> {
    let secs = state.config.user_token_secs;
    crate::db::in_transaction(&state.db, |txn| {
        Box::pin(async move {
            account::lock_live(txn, user_id).await?;
            let session = user_token::new_session(user_id, clock::now(), secs);
            let issued = (session.token.clone(), session.expire_at);
            user_token::Entity::insert(session.into_active_model().reset_all())
                .exec_without_returning(txn)
                .await?;
            Ok(issued)
        })
    })
    .await
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

/// Ends every session of a user as part of a transaction (`db`) that holds the user's row: the
/// rows go with it (read with a lock, so a session committed just before is among them), the
/// cache entries are revoked at once — a rollback then only costs the user a new login.
pub(super) async fn revoke_all_in(
    state: &AppState,
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<(), AppError> {
    let rows = user_token::Entity::find()
        .filter(user_token::Column::UserId.eq(user_id))
        .lock_exclusive()
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
