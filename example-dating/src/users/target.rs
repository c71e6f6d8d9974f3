//! The `/api/users/{user_id}` loader: the user the path names, loaded and checked once for
//! everything below (show, messages).

use kotori::{Path, Res, State};

use crate::auth::Caller;
use crate::codes::{self, AppError};
use crate::db::entity::users::user_info;
use crate::people::visibility;
use crate::state::AppState;

/// The user named by the path, visible to the caller.
#[derive(Clone, Debug)]
pub struct Target(pub user_info::Model);

/// Unknown, erased, banned, hidden, contacts-only to a non-contact, or blocked either way:
/// 40401 alike, so the answer does not tell which. One query: the rule of
/// `people::visibility`, in SQL.
#[kotori::loader]
pub async fn load_target(
    Path(user_id): Path<i64>,
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Target, AppError> {
    visibility::seen_by(&state.db, caller.user_id, user_id)
        .await?
        .map(Target)
        .ok_or_else(codes::not_found)
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
