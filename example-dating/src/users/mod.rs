//! Users: profiles, album, labels, the target-user loader, visits, hot and nearby lists. Who
//! may see whom is not decided here but in `people::visibility`, which every one of them asks.

pub mod album;
pub mod discover;
pub mod hot;
pub mod labels;
pub mod profile;
pub mod showcase;
pub mod target;
pub mod visits;

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::codes::AppError;
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

/// The users with these ids, by id, in one query (lists show the people they mention).
pub async fn by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, user_info::Model>, AppError> {
    let ids: Vec<i64> = ids.into_iter().collect();
    // No query for nobody.
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let users = user_info::Entity::find()
        .filter(user_info::Column::UserId.is_in(ids))
        .all(db)
        .await?;
    Ok(users.into_iter().map(|u| (u.user_id, u)).collect())
}
