//! `POST /api/me/delete`: erasing an account (`people::account::delete` says what goes and
//! what stays). The export is `safety::export`.

use kotori::{Json, Res, State};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::codes::AppError;
use crate::envelope::ok;
use crate::people::account;
use crate::state::AppState;

/// Erases the caller's account (`people::account::delete`: what goes, what stays).
pub async fn delete_me(
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    account::delete(&state, caller.user_id).await?;
    Ok(ok(json!({})))
}

/// What delete_me answers, for `/openapi.json`.
pub fn delete_me_doc() -> kotori::openapi::Declares {
    crate::openapi::answers(crate::openapi::empty())
}
