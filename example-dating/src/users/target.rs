//! The `/api/users/{user_id}` loader: the user the path names, loaded and checked once for
//! everything below (show, messages).

use kotori::{Path, Res, State};
use sea_orm::EntityTrait;

use super::can_see;
use crate::auth::Caller;
use crate::chat::contacts;
use crate::codes::{self, AppError};
use crate::db::entity::users::user_info;
use crate::safety::blocks;
use crate::state::AppState;

/// The user named by the path, visible to the caller.
#[derive(Clone, Debug)]
pub struct Target(pub user_info::Model);

/// Unknown, erased, banned, hidden, contacts-only to a non-contact, or blocked either way:
/// 40401 alike, so the answer does not tell which.
#[kotori::loader]
pub async fn load_target(
    Path(user_id): Path<i64>,
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Target, AppError> {
    let user = user_info::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .ok_or_else(codes::not_found)?;
    let is_contact =
        user.authority == 2 && contacts::are_contacts(&state.db, caller.user_id, user_id).await?;
    if user.deleted_at.is_some()
        || !can_see(caller.user_id, &user, is_contact)
        || blocks::between(&state.db, caller.user_id, user_id).await?
    {
        return Err(codes::not_found());
    }
    Ok(Target(user))
}

/// What load_target reads and answers, for `/openapi.json`.
pub fn load_target_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new().param(id("user_id")).refuses(
        404,
        40401,
        "no such user, or not visible to the caller",
    )
}
