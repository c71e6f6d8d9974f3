//! May `viewer` see `user`? The one rule, written twice side by side: [`may_see`] in Rust for
//! rows already in memory, [`visible_to`] as a SQL condition for rows still in the database.
//! `tests/people.rs` generates graphs (hidden, contacts-only, blocked either way, banned,
//! deleted, self) and holds the two to the same answers on SQLite, MariaDB and PostgreSQL.
//!
//! The rule: an erased account is seen by nobody. Anyone else sees themselves. Otherwise the
//! user must not be banned, neither may have blocked the other, and the user's [`Authority`]
//! must let the viewer in: everyone, or contacts and the viewer is one, never when hidden.
//!
//! [`is_public`] / [`public`] is the same rule for a viewer who is nobody in particular: a
//! stranger with no blocks. The hot list ranks the public (its `total` is their count, cached
//! once for every viewer), then takes each viewer's blocks out.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use super::card::{Row, Visible};
use super::{Authority, graph};
use crate::codes::AppError;
use crate::db::entity::users::user_info;
use crate::store::Store;

/// What the rule needs to know of the viewer and the user besides the user's row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relation {
    /// They exchanged a message: a `contacts` row joins them, either way.
    pub contact: bool,
    /// Either blocked the other: a `block` row joins them, either way.
    pub blocked: bool,
}

impl Relation {
    /// Nobody in particular: no conversation, no block.
    pub const STRANGER: Relation = Relation {
        contact: false,
        blocked: false,
    };
}

/// The rule, in Rust: whether `viewer` may see `user`, related as `relation` says.
///
/// ```
/// use example_dating::db::entity::users::user_info;
/// use example_dating::people::{Authority, Relation, may_see};
///
/// let mut user = user_info::Model {
///     user_id: 2, nickname: "u".into(), phone: String::new(), email: None, gender: 0,
///     birthday: None, avatar: None, height: None, emotion: None, sexual: None, education: None,
///     salary: None, authority: Authority::Contacts, banned: false, ban_reason: None,
///     created_at: 0, updated_at: 0, deleted_at: None, search_key: None,
/// };
/// assert!(!may_see(1, &user, Relation::STRANGER));
/// assert!(may_see(1, &user, Relation { contact: true, blocked: false }));
/// assert!(!may_see(1, &user, Relation { contact: true, blocked: true }));
/// assert!(may_see(2, &user, Relation::STRANGER), "everyone sees themselves");
/// user.deleted_at = Some(0);
/// assert!(!may_see(2, &user, Relation::STRANGER), "an erased account, nobody");
/// ```
pub fn may_see(viewer: i64, user: &impl Visible, relation: Relation) -> bool {
    if user.erased() {
        return false;
    }
    if viewer == user.user_id() {
        return true;
    }
    !user.banned()
        && !relation.blocked
        && match user.authority() {
            Authority::Everyone => true,
            Authority::Contacts => relation.contact,
            Authority::Hidden => false,
        }
}

/// The rule, in SQL: the `user_info` rows `viewer` may see (a condition on `user_info`).
pub fn visible_to(viewer: i64) -> Condition {
    let user = || Expr::col((user_info::Entity, user_info::Column::UserId));
    let others = Condition::all()
        .add(user_info::Column::Banned.eq(false))
        .add(graph::block_exists(viewer, user()).not())
        .add(
            Condition::any()
                .add(user_info::Column::Authority.eq(Authority::Everyone))
                .add(
                    Condition::all()
                        .add(user_info::Column::Authority.eq(Authority::Contacts))
                        .add(graph::contact_exists(viewer, user())),
                ),
        );
    Condition::all()
        .add(user_info::Column::DeletedAt.is_null())
        .add(
            Condition::any()
                .add(user_info::Column::UserId.eq(viewer))
                .add(others),
        )
}

/// A viewer who is nobody: no account has id 0.
const NOBODY: i64 = 0;

/// Whether anyone at all may see `user`: [`may_see`] for a stranger who is nobody.
pub fn is_public(user: &impl Visible) -> bool {
    may_see(NOBODY, user, Relation::STRANGER)
}

/// The SQL twin of [`is_public`].
pub fn public() -> Condition {
    Condition::all()
        .add(user_info::Column::DeletedAt.is_null())
        .add(user_info::Column::Banned.eq(false))
        .add(user_info::Column::Authority.eq(Authority::Everyone))
}

/// `user_id`'s row if `viewer` may see it: one query.
pub async fn seen_by(
    db: &impl ConnectionTrait,
    viewer: i64,
    user_id: i64,
) -> Result<Option<user_info::Model>, AppError> {
    Ok(user_info::Entity::find_by_id(user_id)
        .filter(visible_to(viewer))
        .one(db)
        .await?)
}

/// Of the users with these ids, those `viewer` may see, by id, in one query, read as `R` (the
/// whole row or a [`Card`](super::card::Card)); never the viewer (lists do not show you to
/// yourself).
pub async fn shown_to<R: Row>(
    db: &impl ConnectionTrait,
    viewer: i64,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, R>, AppError> {
    let rule = Condition::all()
        .add(user_info::Column::UserId.ne(viewer))
        .add(visible_to(viewer));
    super::card::by_id_where(db, ids, rule).await
}

/// The store key of the kept [`public_count`]. Both kept counts of people share one hash tag,
/// so that one script moves both on Redis Cluster ([`joined`]).
const PUBLIC_COUNT: &str = "people:{kept}:public";
/// The store key of the kept count of [`everyone`] (what an admin's user search without a
/// query pages through), kept like [`public_count`]: a sign-up adds one, an erasure takes one,
/// and it is recounted every [`PUBLIC_FRESH`] (a ban or an authority change does not move it:
/// admins find banned and hidden people too).
pub const EVERYONE_COUNT: &str = "people:{kept}:all";

/// Every account not erased: whom admins find (banned and hidden people too).
pub fn everyone() -> sea_orm::Select<user_info::Entity> {
    user_info::Entity::find().filter(user_info::Column::DeletedAt.is_null())
}

/// How many people are [`public`] (`paging::cached_total_for`; `None` before the first count).
/// Counting is a scan of every user — 150–200 ms of SQLite's CPU at a million users, on the
/// embedded database's one connection — so it is kept as things happen instead: a sign-up
/// (public from the start) adds one to it ([`joined`]), and the rarer changes that can move it
/// (a ban, an unban, a change of who may see someone, an erasure) move it by the one person
/// they moved in or out ([`Moved`], through [`super::changed`]). It is recounted every
/// [`PUBLIC_FRESH`], which corrects what the moves can miss: a move a recount overlapped
/// (counted before the change committed, set after the move), a store that failed between a
/// commit and its move, two changes of one person's authority at once.
pub async fn public_count(lists: crate::paging::Lists<'_>) -> Result<Option<u64>, AppError> {
    let everyone = || user_info::Entity::find().filter(public());
    crate::paging::cached_total_for(lists, PUBLIC_COUNT, everyone, PUBLIC_FRESH).await
}

/// How long the kept [`public_count`] goes without a recount when nothing forgets it.
pub const PUBLIC_FRESH: std::time::Duration = std::time::Duration::from_secs(600);

/// Counts the [`public`] people now and keeps the count fresh (tests, and a bulk load that
/// wants its total exact at once).
pub async fn recount_public(db: &DatabaseConnection, store: &dyn Store) -> Result<u64, AppError> {
    let everyone = user_info::Entity::find().filter(public());
    crate::paging::count_now_for(db, store, PUBLIC_COUNT, everyone, PUBLIC_FRESH).await
}

/// A new account, public from its first login, joins both kept counts — [`public_count`] and
/// everyone's — where they exist (before a first count there is nothing to add to), in one
/// store round trip. A store failure leaves them one short until their next recount.
pub async fn joined(store: &dyn Store) {
    add(store, &[(PUBLIC_COUNT, 1), (EVERYONE_COUNT, 1)]).await;
}

/// Whether a committed change took someone into the [`public`] people, out of them, or
/// neither: what it moves [`public_count`] by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moved {
    /// Public after, not before (an unban, an authority opened to everyone).
    In,
    /// Public before, not after (a ban, a hidden or contacts-only profile, an erasure).
    Out,
    /// Public both times, or neither.
    Stayed,
}

impl Moved {
    /// How `before` and `after` — one person's row on each side of a change — differ.
    pub fn between(before: &impl Visible, after: &impl Visible) -> Moved {
        match (is_public(before), is_public(after)) {
            (false, true) => Moved::In,
            (true, false) => Moved::Out,
            _ => Moved::Stayed,
        }
    }

    fn delta(self) -> i64 {
        match self {
            Moved::In => 1,
            Moved::Out => -1,
            Moved::Stayed => 0,
        }
    }
}

/// Moves [`public_count`] by a committed change's [`Moved`] (nothing when it stayed). A store
/// failure leaves it off by one until its next recount.
pub async fn moved(store: &dyn Store, moved: Moved) {
    add(store, &[(PUBLIC_COUNT, moved.delta())]).await;
}

/// An account was erased: one fewer of everyone, and of the public if it was one ([`Moved`]
/// from its last row), in one store round trip.
pub async fn erased(store: &dyn Store, moved: Moved) {
    add(
        store,
        &[(PUBLIC_COUNT, moved.delta()), (EVERYONE_COUNT, -1)],
    )
    .await;
}

/// Adds to the kept counts of people that exist (the two keys share a hash tag); a move of
/// nothing is not sent.
async fn add(store: &dyn Store, moves: &[(&str, i64)]) {
    let moves: Vec<(&str, i64)> = moves.iter().copied().filter(|&(_, d)| d != 0).collect();
    if moves.is_empty() {
        return;
    }
    if let Err(e) = store.add_existing(&moves).await {
        tracing::warn!(error = %e, "could not move the kept counts of people; their next recount will");
    }
}
