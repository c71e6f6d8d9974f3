//! The social graph between two people: contacts (they exchanged a message) and blocks (either
//! blocked the other, which hides each from the other everywhere).

use std::collections::HashSet;

use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::Authority;
use crate::codes::AppError;
use crate::db::entity::chat::contacts;
use crate::db::entity::safety::block;
use crate::db::entity::users::user_info;

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

/// Whether either of `a` and `b` blocked the other.
pub async fn blocked_between(db: &impl ConnectionTrait, a: i64, b: i64) -> Result<bool, AppError> {
    let found = block::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(block::Column::BlockerId.eq(a))
                        .add(block::Column::BlockedId.eq(b)),
                )
                .add(
                    Condition::all()
                        .add(block::Column::BlockerId.eq(b))
                        .add(block::Column::BlockedId.eq(a)),
                ),
        )
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Everyone `me` blocked or who blocked `me` (for lists filtered in memory, and sockets).
pub async fn hidden_from(db: &impl ConnectionTrait, me: i64) -> Result<HashSet<i64>, AppError> {
    let rows = block::Entity::find()
        .filter(
            block::Column::BlockerId
                .eq(me)
                .or(block::Column::BlockedId.eq(me)),
        )
        .all(db)
        .await?;
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

/// Whether `a` and `b` have exchanged a message (either side's row exists).
pub async fn are_contacts(db: &impl ConnectionTrait, a: i64, b: i64) -> Result<bool, AppError> {
    let found = contacts::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(contacts::Column::UserId.eq(a))
                        .add(contacts::Column::PeerId.eq(b)),
                )
                .add(
                    Condition::all()
                        .add(contacts::Column::UserId.eq(b))
                        .add(contacts::Column::PeerId.eq(a)),
                ),
        )
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Which of `users` are contacts of `user_id`, among those visible to contacts only: whether
/// the others are contacts changes nothing about what `user_id` sees, so when there are none
/// nothing is read.
pub async fn contacts_among<'u>(
    db: &impl ConnectionTrait,
    user_id: i64,
    users: impl IntoIterator<Item = &'u user_info::Model>,
) -> Result<HashSet<i64>, AppError> {
    let candidates: Vec<i64> = users
        .into_iter()
        .filter(|u| u.authority == Authority::Contacts)
        .map(|u| u.user_id)
        .collect();
    if candidates.is_empty() {
        return Ok(HashSet::new());
    }
    let either_side = Condition::any()
        .add(
            Condition::all()
                .add(contacts::Column::UserId.eq(user_id))
                .add(contacts::Column::PeerId.is_in(candidates.clone())),
        )
        .add(
            Condition::all()
                .add(contacts::Column::PeerId.eq(user_id))
                .add(contacts::Column::UserId.is_in(candidates)),
        );
    let pairs: Vec<(i64, i64)> = contacts::Entity::find()
        .select_only()
        .column(contacts::Column::UserId)
        .column(contacts::Column::PeerId)
        .filter(either_side)
        .into_tuple()
        .all(db)
        .await?;
    Ok(pairs
        .into_iter()
        .map(|(a, b)| if a == user_id { b } else { a })
        .collect())
}

/// The SQL twin of [`are_contacts`]: a row of `contacts` joins `viewer` and `user` (either side).
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

/// The SQL twin of [`blocked_between`]: a block row joins `viewer` and `user`, either way.
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
