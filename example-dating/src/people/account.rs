//! An account's standing and every change of it. Each change is one transaction that first
//! takes the user's row ([`lock_live`]), so a login, a ban and a deletion of one account happen
//! one after the other on every database, and none of them can bring back what another ended.
//! After the commit, [`changed`] tells every cache and open connection, in one call.

use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect, Set,
};
use serde_json::Value;

use super::visibility::{self, Moved};
use super::{Authority, footprints, sessions};
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::chat::contacts;
use crate::db::entity::commerce::vip_info;
use crate::db::entity::rooms::live_mute;
use crate::db::entity::safety::{block, report};
use crate::db::entity::users::{location, user_album, user_auth, user_info, user_label, visitor};
use crate::realtime::{Route, route};
use crate::state::AppState;

/// The name an erased account's messages and danmaku are shown from.
pub const DELETED_NICKNAME: &str = "deleted user";

/// Where an account stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// It logs in and is seen as its authority says.
    Live,
    /// An operator banned it: no session, seen by nobody, its login is 40303.
    Banned,
    /// Its owner erased it: the row stays as a tombstone that carries nothing personal.
    Deleted,
}

impl Standing {
    /// The standing of `user`'s row.
    pub fn of(user: &user_info::Model) -> Standing {
        if user.deleted_at.is_some() {
            Standing::Deleted
        } else if user.banned {
            Standing::Banned
        } else {
            Standing::Live
        }
    }

    /// Its refusal, for a live account's action: 40303 for a ban, 40105 otherwise (the
    /// account's tokens are gone).
    pub fn refusal(self) -> Result<(), AppError> {
        match self {
            Standing::Live => Ok(()),
            Standing::Banned => Err(codes::banned()),
            Standing::Deleted => Err(codes::bad_token()),
        }
    }
}

/// The SQL twin of `Standing::of(..) == Live`, a condition on `user_info`.
pub fn live() -> Condition {
    Condition::all()
        .add(user_info::Column::DeletedAt.is_null())
        .add(user_info::Column::Banned.eq(false))
}

/// How a transaction takes people's rows ([`take`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    /// `FOR UPDATE`: for a change of the rows, or of what is counted under them (a cap).
    Update,
    /// `FOR SHARE`: for a write that must not outlive a change of them — every change of an
    /// account's standing takes its row for update, so it waits, or is waited for.
    Share,
}

/// The rows of `ids` as they are now, taken for the rest of `txn` as `how` says, in one
/// statement: in key order on every database, so two transactions that take the same rows
/// cannot deadlock over their order. SQLite, whose one connection runs one transaction at a
/// time, takes nothing.
pub async fn take(txn: &DatabaseTransaction, ids: &[i64], how: Take) -> Result<Held, AppError> {
    let rows =
        user_info::Entity::find().filter(user_info::Column::UserId.is_in(ids.iter().copied()));
    let rows = match how {
        Take::Update => rows.lock_exclusive(),
        Take::Share => rows.lock_shared(),
    };
    Ok(Held(rows.all(txn).await?))
}

/// People's rows as [`take`] found them, held until the transaction ends; each question is
/// the one refusal its kind of party gets.
pub struct Held(Vec<user_info::Model>);

impl Held {
    /// `user_id`'s row if the account is live: the request's own caller, who acts. Otherwise
    /// 40105 — banned or erased since the request's token was read, its token is revoked.
    pub fn live(&self, user_id: i64) -> Result<&user_info::Model, AppError> {
        self.row(user_id)
            .filter(|u| Standing::of(u) == Standing::Live)
            .ok_or_else(codes::bad_token)
    }

    /// `user_id`'s row if the account exists, banned or not: someone acted on (blocked, muted,
    /// visited). Otherwise — unknown, or erased — 40401.
    pub fn existing(&self, user_id: i64) -> Result<&user_info::Model, AppError> {
        self.row(user_id)
            .filter(|u| Standing::of(u) != Standing::Deleted)
            .ok_or_else(codes::not_found)
    }

    fn row(&self, user_id: i64) -> Option<&user_info::Model> {
        self.0.iter().find(|u| u.user_id == user_id)
    }
}

/// Takes `user_id`'s row for the rest of `txn` and returns it as it is now (`SELECT ... FOR
/// UPDATE`; SQLite, whose one connection runs one transaction at a time, needs no lock).
/// Unknown is 40401.
pub async fn lock(txn: &DatabaseTransaction, user_id: i64) -> Result<user_info::Model, AppError> {
    let Held(mut rows) = take(txn, &[user_id], Take::Update).await?;
    rows.pop().ok_or_else(codes::not_found)
}

/// [`lock`], refusing an account that is not live (40303 banned, 40105 deleted or unknown).
pub async fn lock_live(
    txn: &DatabaseTransaction,
    user_id: i64,
) -> Result<user_info::Model, AppError> {
    let user = lock(txn, user_id).await.map_err(|_| codes::bad_token())?;
    Standing::of(&user).refusal()?;
    Ok(user)
}

/// Holds `actor`'s and `other`'s rows for the rest of `txn` (`FOR SHARE`; SQLite, one
/// transaction at a time, needs no lock), then checks again, as the database is now, what the
/// request's token and loaders checked before it began: `actor` is live (40105 otherwise: its
/// tokens are revoked) and may see `other` ([`visibility::seen_by`]: 40401 otherwise).
///
/// For a write between two people that must not land after a block, a ban or an erasure that
/// committed while the request was on its way (a message): each of those takes one of the two
/// rows for update, so it waits for `txn` to end, or `txn` waits for it and then sees it. The
/// check is a statement of its own, after the lock: on PostgreSQL a statement sees what was
/// committed when it began, and a block committed while the lock waited is newer than the
/// statement that waited.
pub async fn hold_pair(txn: &DatabaseTransaction, actor: i64, other: i64) -> Result<(), AppError> {
    take(txn, &[actor, other], Take::Share).await?.live(actor)?;
    match visibility::seen_by(txn, actor, other).await? {
        Some(_) => Ok(()),
        None => Err(codes::not_found()),
    }
}

/// The caller's own row, taken for the rest of `txn` as `how` says, refusing an account that is
/// no longer live: a ban or an erasure that committed while the request was on its way
/// revoked its token, and a revoked token is 40105. Every write of a user's own rows goes
/// through here (or [`hold_pair`]), so none lands on an account that was ended meanwhile —
/// an erasure deletes what it finds, and what came after would outlive it.
pub async fn take_caller(
    txn: &DatabaseTransaction,
    user_id: i64,
    how: Take,
) -> Result<user_info::Model, AppError> {
    take(txn, &[user_id], how).await?.live(user_id).cloned()
}

/// What changed about someone: [`changed`] tells whoever holds a copy of what it moves.
#[derive(Clone, Debug)]
pub enum Change {
    /// A phone registered: one more public person.
    Registered,
    /// A user changed who may see them (`authority`), and maybe more of their profile; how
    /// that moved them among the public people.
    Authority(i64, Moved),
    /// A user changed their own rows, not `authority`: their profile, labels or album, or
    /// their membership (what `/api/me` shows).
    Profile(i64),
    /// A user was banned (out of the public people if they were one).
    Banned(i64, Moved),
    /// A user's ban was lifted (back among the public people if their authority says so).
    Unbanned(i64, Moved),
    /// A user erased their account; `counted` is what the ranking counted of their footprints.
    Deleted(i64, footprints::Counted, Moved),
    /// A session ended by its owner.
    LoggedOut(i64),
    /// `0` blocked `1`.
    Blocked(i64, i64),
    /// `0` lifted their block of `1`.
    Unblocked(i64, i64),
    /// `0` sent `1` a message, maybe their first between them.
    Contacted(i64, i64),
    /// A user set their location (`lat`, `lng`).
    Moved(i64, f64, f64),
}

/// Tells every cache and open connection about a committed change: the count of public people
/// (the hot list's total), the ranking, the geo index, the cards and blocks every instance
/// keeps (`people::cache`: this instance's before this returns, the others' through the hub),
/// the sockets of this and every instance.
/// The database is the truth, so a store that fails here is logged, not answered: the counts
/// of people are recounted within ten minutes and the indexes are rebuilt from the rows.
pub async fn changed(state: &AppState, change: Change) {
    let store = &*state.store;
    let bye = |user: i64, reason: &str| Route::Close(user, reason.into());
    let route = match &change {
        Change::Registered => None,
        Change::Authority(user, _) | Change::Profile(user) | Change::Unbanned(user, _) => {
            Some(Route::Changed(*user))
        }
        Change::Banned(user, _) => Some(bye(*user, "banned")),
        Change::Deleted(user, ..) => Some(bye(*user, route::ERASED)),
        Change::LoggedOut(user) => Some(bye(*user, "logout")),
        Change::Blocked(a, b) => Some(Route::Blocked(*a, *b, true)),
        Change::Unblocked(a, b) => Some(Route::Blocked(*a, *b, false)),
        Change::Contacted(a, b) => Some(Route::Contacted(*a, *b)),
        Change::Moved(user, lat, lng) => Some(Route::Moved(*user, *lat, *lng)),
    };
    // This instance's copies change at once (the hub's delivery to it may come after the
    // answer); the others' when the route reaches them.
    if let Some(route) = &route {
        state.hub.tell_listeners(route);
    }
    // What moves the ranking or the count of public people, seen at once here.
    if !matches!(
        change,
        Change::LoggedOut(_)
            | Change::Blocked(..)
            | Change::Unblocked(..)
            | Change::Profile(_)
            | Change::Contacted(..)
            | Change::Moved(..)
    ) {
        state.people().forget_glances();
    }
    // The kept counts of people move by the one person a change moved: a count of a million
    // rows is not redone for a sign-up or a ban.
    match change {
        Change::Registered => visibility::joined(store).await,
        Change::Authority(_, moved) | Change::Banned(_, moved) | Change::Unbanned(_, moved) => {
            visibility::moved(store, moved).await
        }
        Change::Deleted(_, _, moved) => visibility::erased(store, moved).await,
        Change::LoggedOut(_)
        | Change::Blocked(..)
        | Change::Unblocked(..)
        | Change::Profile(_)
        | Change::Contacted(..)
        | Change::Moved(..) => {}
    }
    if let Change::Deleted(user, counted, _) = &change {
        if let Err(e) = footprints::take_back(store, counted).await {
            tracing::warn!(user_id = user, error = %e, "could not take an erased user's visits from the ranking; the next rebuild will");
        }
    }
    if let Some(route) = route {
        state.hub.publish(route, Value::Null, None).await;
    }
}

/// Edits `user_id`'s profile: what is `Set` in `edited` is written onto the row as it is now,
/// locked ([`lock`]), in a transaction of its own, then [`Change::Authority`] is announced when
/// the edit sets who may see the user, [`Change::Profile`] otherwise. An account banned or
/// erased since the request's token was read is 40105 and nothing is written: an edit that
/// reached the row after an erasure would write a nickname or an e-mail back onto what the
/// erasure emptied. The move of the count of public people is taken between the locked row and
/// the new one, so a ban, or another change of authority of the same person at the same
/// moment, is counted once: each moves from the row the other left (from the row a request
/// started from, both would move it).
pub async fn edit(
    state: &AppState,
    user_id: i64,
    edited: user_info::ActiveModel,
) -> Result<user_info::Model, AppError> {
    let (user, moved) = crate::db::in_transaction(&state.db, |txn| {
        let edited = edited.clone();
        Box::pin(async move {
            let before = take_caller(txn, user_id, Take::Update).await?;
            let mut row = before.clone().into_active_model();
            for column in <user_info::Column as sea_orm::Iterable>::iter() {
                if let sea_orm::ActiveValue::Set(value) = edited.get(column) {
                    row.set(column, value);
                }
            }
            let after = row.update(txn).await?;
            let moved = Moved::between(&before, &after);
            Ok((after, moved))
        })
    })
    .await?;
    let change = if edited.authority.is_set() {
        Change::Authority(user_id, moved)
    } else {
        Change::Profile(user_id)
    };
    changed(state, change).await;
    Ok(user)
}

/// Bans `user_id` for `reason` (if one was given) within `txn`: the row changes and every session ends (cache
/// tombstones written before the commit: a store that is down fails the ban, nothing changes).
/// The one implementation of a ban — the user console's and a report's. The caller commits,
/// then calls [`changed`] with [`Change::Banned`].
pub async fn ban_in(
    state: &AppState,
    txn: &DatabaseTransaction,
    user_id: i64,
    reason: Option<String>,
) -> Result<(user_info::Model, Moved), AppError> {
    let (banned, moved) = set_ban(txn, user_id, Some(reason)).await?;
    sessions::revoke_all_in(state, txn, user_id).await?;
    Ok((banned, moved))
}

/// Bans `user_id` for `reason`: [`ban_in`] in a transaction of its own, then [`changed`].
pub async fn ban(
    state: &AppState,
    user_id: i64,
    reason: &str,
) -> Result<user_info::Model, AppError> {
    let (banned, moved) = crate::db::in_transaction(&state.db, |txn| {
        let (state, reason) = (state.clone(), reason.to_owned());
        Box::pin(async move { ban_in(&state, txn, user_id, Some(reason)).await })
    })
    .await?;
    changed(state, Change::Banned(user_id, moved)).await;
    Ok(banned)
}

/// Lifts `user_id`'s ban inside `txn` (its sessions stay ended: the user logs in again); the
/// caller commits, then announces [`Change::Unbanned`].
pub async fn unban_in(
    txn: &DatabaseTransaction,
    user_id: i64,
) -> Result<(user_info::Model, Moved), AppError> {
    set_ban(txn, user_id, None).await
}

/// Bans `user_id` for `reason` (`Some`: a reason, if one was given) or lifts the ban (`None`)
/// within `txn`, holding the user's row: an erased account is 40401 either way. The row as
/// changed, and how the change moved the user among the public people.
async fn set_ban(
    txn: &DatabaseTransaction,
    user_id: i64,
    ban: Option<Option<String>>,
) -> Result<(user_info::Model, Moved), AppError> {
    let held = take(txn, &[user_id], Take::Update).await?;
    let user = held.existing(user_id)?.clone();
    let before = user.clone();
    let mut row = user.into_active_model();
    row.banned = Set(ban.is_some());
    row.ban_reason = Set(ban.flatten());
    row.updated_at = Set(clock::now());
    let changed = row.update(txn).await?;
    let moved = Moved::between(&before, &changed);
    Ok((changed, moved))
}

/// Ends the session of `token` (its owner's), on every instance.
pub async fn log_out(state: &AppState, user_id: i64, token: &str) -> Result<(), AppError> {
    sessions::revoke(state, token).await?;
    changed(state, Change::LoggedOut(user_id)).await;
    Ok(())
}

/// Erases `user_id`'s account in one transaction: every session ends (40105 after); the
/// profile, album, labels, location, visits both ways, blocks, contacts, reports made, mutes and
/// membership are deleted; the login identity goes, so the phone registers anew. What others
/// hold stays: messages the user sent (from "deleted user"), danmaku, orders (for accounting,
/// no longer tied to the phone), reports about the user. An account erased already is 40105.
pub async fn delete(state: &AppState, user_id: i64) -> Result<(), AppError> {
    // A login of the same phone takes its identity row, then the user's (`auth::logins`): the
    // erasure takes them in the same order, so either waits for the other. In the other order
    // the two deadlocked in most races, and PostgreSQL (which looks for a deadlock only after a
    // second of waiting) could pick the login's retries as its victim three times running: a
    // 50301. A deadlock with anything else is still run again (all or nothing).
    let (counted, moved) =
        crate::db::in_transaction_retrying(&state.db, crate::db::is_transient, |txn| {
            let state = state.clone();
            Box::pin(async move {
                user_auth::Entity::find()
                    .filter(user_auth::Column::UserId.eq(user_id))
                    .lock_exclusive()
                    .all(txn)
                    .await?;
                let user = lock(txn, user_id).await.map_err(|_| codes::bad_token())?;
                if Standing::of(&user) == Standing::Deleted {
                    return Err(codes::bad_token());
                }
                let now = clock::now();
                let counted = footprints::counted_for(txn, user_id, now).await?;
                let before = user.clone();
                let tombstone = erase(txn, user, now).await?;
                let moved = Moved::between(&before, &tombstone);
                // The sessions end before the commit: if the store is down, nothing is erased.
                sessions::revoke_all_in(&state, txn, user_id).await?;
                Ok((counted, moved))
            })
        })
        .await?;
    changed(state, Change::Deleted(user_id, counted, moved)).await;
    Ok(())
}

/// The rows of `user`, erased or emptied; the row left as a tombstone.
async fn erase(
    db: &impl ConnectionTrait,
    user: user_info::Model,
    now: i64,
) -> Result<user_info::Model, AppError> {
    let id = user.user_id;
    user_auth::Entity::delete_many()
        .filter(user_auth::Column::UserId.eq(id))
        .exec(db)
        .await?;
    user_album::Entity::delete_many()
        .filter(user_album::Column::UserId.eq(id))
        .exec(db)
        .await?;
    user_label::Entity::delete_many()
        .filter(user_label::Column::UserId.eq(id))
        .exec(db)
        .await?;
    location::Entity::delete_by_id(id).exec(db).await?;
    visitor::Entity::delete_many()
        .filter(
            visitor::Column::ViewerId
                .eq(id)
                .or(visitor::Column::ViewedId.eq(id)),
        )
        .exec(db)
        .await?;
    block::Entity::delete_many()
        .filter(
            block::Column::BlockerId
                .eq(id)
                .or(block::Column::BlockedId.eq(id)),
        )
        .exec(db)
        .await?;
    // The user's own conversation list goes; the peers keep theirs, now with "deleted user".
    contacts::Entity::delete_many()
        .filter(contacts::Column::UserId.eq(id))
        .exec(db)
        .await?;
    report::Entity::delete_many()
        .filter(report::Column::ReporterId.eq(id))
        .exec(db)
        .await?;
    live_mute::Entity::delete_many()
        .filter(live_mute::Column::UserId.eq(id))
        .exec(db)
        .await?;
    vip_info::Entity::delete_by_id(id).exec(db).await?;
    // The row stays as a tombstone that carries nothing personal.
    let mut row = user.into_active_model();
    row.nickname = Set(DELETED_NICKNAME.into());
    row.phone = Set(String::new());
    row.email = Set(None);
    row.gender = Set(0);
    row.birthday = Set(None);
    row.avatar = Set(None);
    row.height = Set(None);
    row.emotion = Set(None);
    row.sexual = Set(None);
    row.education = Set(None);
    row.salary = Set(None);
    row.authority = Set(Authority::Hidden);
    row.ban_reason = Set(None);
    row.updated_at = Set(now);
    row.deleted_at = Set(Some(now));
    Ok(row.update(db).await?)
}

/// Whether `user_id` names an account that was not erased (a banned one too: people report and
/// block whoever bothered them).
pub async fn exists(db: &impl ConnectionTrait, user_id: i64) -> Result<bool, AppError> {
    let user = user_info::Entity::find_by_id(user_id).one(db).await?;
    Ok(user.is_some_and(|u| Standing::of(&u) != Standing::Deleted))
}
