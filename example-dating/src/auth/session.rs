//! The token loader: which live account is calling. Sessions themselves (issue, lookup,
//! revocation) belong to the people layer, `people::sessions`.

use kotori::{Ctx, Res};

use crate::codes::{self, AppError};
use crate::params::Params;
use crate::people::sessions;
use crate::state::AppState;

/// The logged-in caller, loaded by the token guard for every route that needs one.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user.
    pub user_id: i64,
    /// The token the request carried.
    pub token: String,
}

/// The token guard: `token` must name a live session of a live account (40105 otherwise: a
/// banned or erased account's tokens were revoked with it).
#[kotori::loader]
pub async fn load_caller(cx: &mut Ctx<AppState>, params: Res<Params>) -> Result<Caller, AppError> {
    let token = params
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(codes::bad_token)?;
    // The signature guard read the session's cache entry along with its replay marks.
    let ahead = cx.extensions().get::<sessions::ReadAhead>();
    let user_id = sessions::lookup(cx.state(), token, ahead)
        .await?
        .ok_or_else(codes::bad_token)?;
    Ok(Caller {
        user_id,
        token: token.to_owned(),
    })
}

/// What load_caller reads and answers, for `/openapi.json`.
pub fn load_caller_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new().security("token").refuses(
        401,
        40105,
        "token missing, unknown, expired or revoked",
    )
}
