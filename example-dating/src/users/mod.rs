//! Users: profiles, album, labels, the target-user loader, visits, hot and nearby lists.

pub mod album;
pub mod discover;
pub mod geo;
pub mod hot;
pub mod labels;
pub mod profile;
pub mod target;
pub mod visits;

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::codes::AppError;
use crate::db::entity::chat::contacts;
use crate::db::entity::safety::block;
use crate::db::entity::users::user_info;

/// A profile as anyone may see it: never `phone` or `email`.
pub fn public_profile(user: &user_info::Model) -> Value {
    json!({
        "user_id": user.user_id,
        "nickname": user.nickname,
        "gender": user.gender,
        "birthday": user.birthday,
        "avatar": user.avatar,
        "height": user.height,
        "emotion": user.emotion,
        "sexual": user.sexual,
        "education": user.education,
        "salary": user.salary,
    })
}

/// Whether `viewer` may see `user`: not banned, and visible to all, or to contacts and the
/// viewer is one. Everyone may see themselves.
pub fn can_see(viewer: i64, user: &user_info::Model, is_contact: bool) -> bool {
    viewer == user.user_id
        || (!user.banned && (user.authority == 1 || (user.authority == 2 && is_contact)))
}

/// Whether `user_id` names an account that exists and was not erased.
pub async fn exists(db: &impl ConnectionTrait, user_id: i64) -> Result<bool, AppError> {
    let user = user_info::Entity::find_by_id(user_id).one(db).await?;
    Ok(user.is_some_and(|u| u.deleted_at.is_none()))
}

/// The users with these ids, by id, in one query (lists show the people they mention).
pub async fn by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, user_info::Model>, AppError> {
    let users = user_info::Entity::find()
        .filter(user_info::Column::UserId.is_in(ids))
        .all(db)
        .await?;
    Ok(users.into_iter().map(|u| (u.user_id, u)).collect())
}

/// Of the users with these ids, those `viewer` may see in a list, by id, in one query: never
/// the viewer, the banned, anyone blocked either way, nor a contacts-only user the viewer does
/// not have as a contact — [`can_see`] and the blocks, asked of the database at once (every
/// query is a round trip, and a discovery page would otherwise make three).
pub async fn shown_to(
    db: &impl ConnectionTrait,
    viewer: i64,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, user_info::Model>, AppError> {
    let user = || Expr::col((user_info::Entity, user_info::Column::UserId));
    // Each direction of a block is its own probe of the pair index.
    let block = |from: Expr, to: Expr| -> SelectStatement {
        Query::select()
            .expr(Expr::val(1))
            .from(block::Entity)
            .and_where(Expr::col((block::Entity, block::Column::BlockerId)).eq(from))
            .and_where(Expr::col((block::Entity, block::Column::BlockedId)).eq(to))
            .to_owned()
    };
    let contact = Query::select()
        .expr(Expr::val(1))
        .from(contacts::Entity)
        .and_where(Expr::col((contacts::Entity, contacts::Column::UserId)).eq(viewer))
        .and_where(Expr::col((contacts::Entity, contacts::Column::PeerId)).eq(user()))
        .to_owned();
    let users = user_info::Entity::find()
        .filter(user_info::Column::UserId.is_in(ids))
        .filter(user_info::Column::UserId.ne(viewer))
        .filter(user_info::Column::Banned.eq(false))
        .filter(
            Condition::any()
                .add(user_info::Column::Authority.eq(1))
                .add(
                    Condition::all()
                        .add(user_info::Column::Authority.eq(2))
                        .add(Expr::exists(contact)),
                ),
        )
        .filter(Expr::exists(block(Expr::val(viewer), user())).not())
        .filter(Expr::exists(block(user(), Expr::val(viewer))).not())
        .all(db)
        .await?;
    Ok(users.into_iter().map(|u| (u.user_id, u)).collect())
}
