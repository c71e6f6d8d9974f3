//! Footprints: who viewed whom, one per viewer, viewed user and UTC day. The `visitor` rows are
//! the truth; the ranking in the store ([`HOT`]: visits received over the last
//! [`WINDOW_DAYS`], a VIP's counting [`VIP_BOOST`] times) is derived from them, kept as
//! footprints are made ([`record`]) and taken back when an account that made or received them
//! is erased ([`take_back`]). The hot list (`users::hot`) reads it and rebuilds it.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, Set, SqlErr,
};

use super::cache::PeopleCache;
use crate::clock;
use crate::codes::AppError;
use crate::db::entity::users::visitor;
use crate::store::{Ranking, Store, StoreError};

/// How many days of visits count, today included.
pub const WINDOW_DAYS: i64 = 7;
/// A VIP's visits count this many times.
pub const VIP_BOOST: i64 = 2;
/// The ranking in the store.
pub const HOT: Ranking = Ranking {
    name: "hot",
    boost: VIP_BOOST,
};

/// The first day whose visits count at `now`.
pub fn first_day(now: i64) -> i64 {
    clock::day(now) - (WINDOW_DAYS - 1)
}

/// Boosts `user_id`'s visits while its membership lasts (until `deadline`); this instance's
/// glance at the ranking goes (`people::cache`).
pub async fn boosted(
    store: &dyn Store,
    cache: &PeopleCache,
    user_id: i64,
    deadline: i64,
) -> Result<(), StoreError> {
    store
        .rank_boost(&HOT, user_id, deadline, clock::now())
        .await?;
    cache.forget_glances();
    Ok(())
}

/// Moves `viewer`'s footprint on `viewed` of the day of `now` to `now`, if there is one: a
/// repeat visit, one statement. Whether it moved one (MySQL counts a row whose values did not
/// change as not moved: then [`record`] finds it). No lock is needed: a footprint that exists
/// is deleted by an erasure whether it is moved before or after, and one the erasure deleted
/// is not there to move.
pub async fn move_today(
    db: &impl ConnectionTrait,
    viewer: i64,
    viewed: i64,
    now: i64,
) -> Result<bool, AppError> {
    let moved = visitor::Entity::update_many()
        .col_expr(visitor::Column::VisitTime, Expr::value(now))
        .col_expr(visitor::Column::Unread, Expr::value(true))
        .filter(today(viewer, viewed, now))
        .exec(db)
        .await?;
    Ok(moved.rows_affected > 0)
}

/// `viewer`'s footprint on `viewed` of the day of `now`.
fn today(viewer: i64, viewed: i64, now: i64) -> Condition {
    Condition::all()
        .add(visitor::Column::ViewerId.eq(viewer))
        .add(visitor::Column::ViewedId.eq(viewed))
        .add(visitor::Column::Day.eq(clock::day(now)))
}

/// Records `viewer`'s footprint on `viewed` for the day of `now`, or moves that day's to `now`,
/// within `txn`; whether it created the footprint. Of two made at once, the unique index lets
/// one insert and refuses the other, which fails with the database's error — in a transaction
/// (on PostgreSQL a refused insert ends it), so the caller runs it again and the second run
/// finds the footprint to move. Only the request that created the footprint counts it in the
/// ranking ([`count_in_ranking`]), after its commit.
pub async fn record(
    txn: &impl ConnectionTrait,
    viewer: i64,
    viewed: i64,
    now: i64,
) -> Result<bool, AppError> {
    let existing = visitor::Entity::find()
        .filter(today(viewer, viewed, now))
        .one(txn)
        .await?;
    if existing.is_some() {
        move_today(txn, viewer, viewed, now).await?;
        return Ok(false);
    }
    let footprint = visitor::ActiveModel {
        viewer_id: Set(viewer),
        viewed_id: Set(viewed),
        day: Set(clock::day(now)),
        visit_time: Set(now),
        unread: Set(true),
        ..Default::default()
    };
    visitor::Entity::insert(footprint)
        .exec_without_returning(txn)
        .await?;
    Ok(true)
}

/// Counts a footprint [`record`] created, at `now`, in the ranking; this instance's glance at
/// the ranking goes.
pub async fn count_in_ranking(
    store: &dyn Store,
    cache: &PeopleCache,
    viewed: i64,
    now: i64,
) -> Result<(), AppError> {
    store.rank_hit(&HOT, clock::day(now), viewed, now).await?;
    cache.forget_glances();
    Ok(())
}

/// Whether `e` is a unique key's refusal: a [`record`] that met a footprint made at the same
/// moment, to be run again.
pub fn is_duplicate(e: &sea_orm::DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// What the ranking counts of some footprints: `(day, viewed, hits)`.
pub type Counted = Vec<(i64, i64, i64)>;

#[derive(FromQueryResult)]
struct DayHits {
    day: i64,
    viewed_id: i64,
    hits: i64,
}

/// The ranking's counts of the footprints `user_id` made or received in the window: what its
/// erasure takes back (read in the erasing transaction, before the rows go).
pub async fn counted_for(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: i64,
) -> Result<Counted, AppError> {
    let theirs = visitor::Column::ViewerId
        .eq(user_id)
        .or(visitor::Column::ViewedId.eq(user_id));
    counted(db, now, Condition::all().add(theirs)).await
}

/// Every footprint in the window, counted as the ranking counts them: what a rebuild loads.
pub async fn counted_all(db: &DatabaseConnection, now: i64) -> Result<Counted, AppError> {
    // Millions of day counts: read in turns, not in one go on a thread that serves requests.
    let rows = crate::db::all_in_turns(db, day_hits(now, Condition::all())).await?;
    Ok(rows
        .into_iter()
        .map(|h| (h.day, h.viewed_id, h.hits))
        .collect())
}

/// The visits of the hot list's window that `which` picks, counted by day and person.
fn day_hits(now: i64, which: Condition) -> sea_orm::Selector<sea_orm::SelectModel<DayHits>> {
    visitor::Entity::find()
        .select_only()
        .column(visitor::Column::Day)
        .column(visitor::Column::ViewedId)
        .column_as(Expr::col(visitor::Column::Id).count(), "hits")
        .filter(visitor::Column::Day.gte(first_day(now)))
        .filter(which)
        .group_by(visitor::Column::Day)
        .group_by(visitor::Column::ViewedId)
        .into_model::<DayHits>()
}

async fn counted(
    db: &impl ConnectionTrait,
    now: i64,
    which: Condition,
) -> Result<Counted, AppError> {
    let rows = day_hits(now, which).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|h| (h.day, h.viewed_id, h.hits))
        .collect())
}

/// Takes `counted` back from the ranking (after the footprints were deleted).
pub async fn take_back(store: &dyn Store, counted: &Counted) -> Result<(), StoreError> {
    if counted.is_empty() {
        return Ok(());
    }
    store.rank_take(&HOT, counted, clock::now()).await
}
