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

use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use serde_json::Value;

use crate::codes::AppError;
use crate::db::entity::users::user_info;
use crate::people::Card;
use crate::people::card::Row;

/// A profile as anyone may see it (never `phone` or `email`): the [`Card`] of the row, for
/// answers that add their own fields to it.
pub fn public_profile(user: &user_info::Model) -> Value {
    Value::from(Card::of(user))
}

/// The users with these ids, by id, in one query, read as `R` (the whole row, or a [`Card`]
/// where only the public profile is shown): lists show the people they mention.
pub async fn by_id<R: Row>(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, R>, AppError> {
    let ids: Vec<i64> = ids.into_iter().collect();
    // No query for nobody.
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let users = R::select()
        .filter(user_info::Column::UserId.is_in(ids))
        .into_model::<R>()
        .all(db)
        .await?;
    Ok(users.into_iter().map(|u| (u.user_id(), u)).collect())
}
