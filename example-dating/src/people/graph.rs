//! The social graph between two people: contacts (they exchanged a message) and blocks (either
//! blocked the other, which hides each from the other everywhere).

use std::collections::HashSet;

use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::codes::{self, AppError};
use crate::db::entity::chat::contacts;
use crate::db::entity::safety::block;

/// `column` is none of the users `me` blocked or who blocked `me`: the filter every list of
/// people adds (visitors, contacts).
pub fn not_blocked_with(column: impl IntoColumnRef + Clone, me: i64) -> SimpleExpr {
    let blocked_by_me = Query::select()
        .column(block::Column::BlockedId)
        .from(block::Entity)
        .and_where(Expr::col(block::Column::BlockerId).eq(me))
        .to_owned();
    let blocking_me = Query::select()
        .column(block::Column::BlockerId)
        .from(block::Entity)
        .and_where(Expr::col(block::Column::BlockedId).eq(me))
        .to_owned();
    Expr::col(column.clone())
        .not_in_subquery(blocked_by_me)
        .and(Expr::col(column).not_in_subquery(blocking_me))
}

/// A set of people, by user id, hashed as the people cache hashes its keys (foldhash): a list
/// page asks it once or twice for each person on the page, and std's SipHash of those ids was
/// a twentieth of a nearby page (callgrind).
pub type People = HashSet<i64, foldhash::fast::RandomState>;

/// Everyone `me` blocked or who blocked `me` (for lists filtered in memory, and sockets).
pub async fn hidden_from(db: &impl ConnectionTrait, me: i64) -> Result<People, AppError> {
    let either_way = block::Column::BlockerId
        .eq(me)
        .or(block::Column::BlockedId.eq(me));
    other_sides(db, me, either_way).await
}

/// Those of `others` whom `me` blocked or who blocked `me`: one read, as long as `others`
/// (a page of a list kept whole, such as an export's messages, names them).
pub async fn blocked_among(
    db: &impl ConnectionTrait,
    me: i64,
    others: impl IntoIterator<Item = i64>,
) -> Result<People, AppError> {
    let others: People = others.into_iter().collect();
    if others.is_empty() {
        return Ok(People::default());
    }
    let ids = || others.iter().copied();
    let either_way = Condition::any()
        .add(
            block::Column::BlockerId
                .eq(me)
                .and(block::Column::BlockedId.is_in(ids())),
        )
        .add(
            block::Column::BlockedId
                .eq(me)
                .and(block::Column::BlockerId.is_in(ids())),
        );
    other_sides(db, me, either_way).await
}

/// The other side of each block `me` is on that `filter` finds.
async fn other_sides(
    db: &impl ConnectionTrait,
    me: i64,
    filter: impl sea_orm::sea_query::IntoCondition,
) -> Result<People, AppError> {
    let rows = block::Entity::find().filter(filter).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|b| {
            if b.blocker_id == me {
                b.blocked_id
            } else {
                b.blocker_id
            }
        })
        .collect())
}

/// Everyone who exchanged a message with `me`. The app writes contact rows in pairs, one per
/// side, in the message's transaction (`chat::messages`; an erasure deletes both), so `me`'s
/// own rows name them all: one read along the pair index, as long as `me`'s conversations.
pub async fn contacts_of(db: &impl ConnectionTrait, me: i64) -> Result<People, AppError> {
    let peers: Vec<i64> = contacts::Entity::find()
        .select_only()
        .column(contacts::Column::PeerId)
        .filter(contacts::Column::UserId.eq(me))
        .into_tuple()
        .all(db)
        .await?;
    Ok(peers.into_iter().collect())
}

/// A row of `contacts` joins `viewer` and `user` (either side): they exchanged a message.
pub(super) fn contact_exists(viewer: i64, user: Expr) -> Condition {
    let side = |from: Expr, to: Expr| {
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(contacts::Entity)
                .and_where(Expr::col((contacts::Entity, contacts::Column::UserId)).eq(from))
                .and_where(Expr::col((contacts::Entity, contacts::Column::PeerId)).eq(to))
                .to_owned(),
        )
    };
    Condition::any()
        .add(side(Expr::val(viewer), user.clone()))
        .add(side(user, Expr::val(viewer)))
}

/// A block row joins `viewer` and `user`, either way.
pub(super) fn block_exists(viewer: i64, user: Expr) -> Condition {
    let one_way = |from: Expr, to: Expr| {
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(block::Entity)
                .and_where(Expr::col((block::Entity, block::Column::BlockerId)).eq(from))
                .and_where(Expr::col((block::Entity, block::Column::BlockedId)).eq(to))
                .to_owned(),
        )
    };
    Condition::any()
        .add(one_way(Expr::val(viewer), user.clone()))
        .add(one_way(user, Expr::val(viewer)))
}

/// `other`, when it is someone other than `me`: nobody messages, blocks or reports themselves
/// (40002 on `user_id`; `doing` says what was tried: `message`, `block`, `report`).
pub fn someone_else(me: i64, other: i64, doing: &str) -> Result<i64, AppError> {
    if other == me {
        return Err(codes::malformed(
            "user_id",
            &format!("you cannot {doing} yourself"),
        ));
    }
    Ok(other)
}
