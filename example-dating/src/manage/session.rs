//! Operator sessions: `POST /manage/login.json` and the `/manage` operator loader.

use std::sync::LazyLock;

use http::header::AUTHORIZATION;
use kotori::{Ctx, Json, Res, State};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use super::operators::Operator;
use super::operators::{hash_password, verify_password};
use crate::auth::session;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::rooms::{operator, operator_token};
use crate::envelope::ok;
use crate::params::Params;
use crate::random;
use crate::state::AppState;

/// Checks name and password; answers a 12-hour token. A wrong name or password is the same
/// 40105, after the same work (a password hash is always checked).
pub async fn login(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let name = params.required("name")?;
    let password = params.required("password")?;
    let found = operator::Entity::find()
        .filter(operator::Column::Name.eq(name))
        .one(&state.db)
        .await?;
    // Verify against a dummy hash when the name is unknown, so timing does not reveal names.
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash_password("not the password of anyone"));
    let valid = verify_password(
        password,
        found
            .as_ref()
            .map_or(DUMMY.as_str(), |o| o.password_hash.as_str()),
    );
    let op = found
        .filter(|_| valid)
        .ok_or_else(codes::bad_operator_login)?;
    let token = random::hex_token(16);
    let now = clock::now();
    let expire_at = now + state.config.operator_token_secs as i64;
    operator_token::ActiveModel {
        token: Set(token.clone()),
        operator_id: Set(op.id),
        expire_at: Set(expire_at),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(
        json!({ "token": token, "expire_time": clock::format(expire_at), "operator_id": op.id, "role": op.role }),
    ))
}

/// The operator of the bearer token; 40105 without a live one.
#[kotori::loader]
pub async fn load_operator(cx: &mut Ctx<AppState>) -> Result<Operator, AppError> {
    let token = cx
        .header(AUTHORIZATION)
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| session::is_token(t))
        .ok_or_else(codes::bad_token)?
        .to_owned();
    let state = cx.state().clone();
    let operator_id = session::cached_owner(&state, &format!("optok:{token}"), async || {
        let row = operator_token::Entity::find_by_id(token.clone())
            .one(&state.db)
            .await?;
        Ok(row.map(|r| (r.operator_id, r.expire_at)))
    })
    .await?;
    let operator_id = operator_id.ok_or_else(codes::bad_token)?;
    let op = operator::Entity::find_by_id(operator_id)
        .one(&state.db)
        .await?
        .ok_or_else(codes::bad_token)?;
    Ok(Operator::from_row(&op))
}
