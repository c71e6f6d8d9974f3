//! VIP membership: the `/api/vip` guard, `GET /api/me/vip`, and extending a membership.

use kotori::{Json, Res, State};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::commerce::vip_info;
use crate::db::entity::users::user_info;
use crate::envelope::ok;
use crate::state::AppState;

/// The user's VIP deadline, if they ever were one.
pub async fn deadline(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<i64>, AppError> {
    Ok(vip_info::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|v| v.deadline))
}

/// The VIP deadline of the `user_info` row a query selects, as a scalar subquery (`NULL` if
/// they never were one): `/api/me` reads it with the caller's row, in one statement.
pub fn deadline_of_row() -> Expr {
    let deadline = Query::select()
        .column(vip_info::Column::Deadline)
        .from(vip_info::Entity)
        .and_where(
            Expr::col((vip_info::Entity, vip_info::Column::UserId))
                .equals((user_info::Entity, user_info::Column::UserId)),
        )
        .to_owned();
    Expr::SubQuery(None, Box::new(deadline.into()))
}

/// The `/api/vip` guard: 40302 unless the caller's membership runs.
#[kotori::guard]
pub async fn require_vip(
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<(), AppError> {
    match deadline(&state.db, caller.user_id).await? {
        Some(deadline) if deadline > clock::now() => Ok(()),
        _ => Err(codes::vip_required()),
    }
}

/// `{"is_vip", "vip_deadline"}` of the caller.
pub async fn mine(
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let deadline = deadline(&state.db, caller.user_id).await?;
    let is_vip = deadline.is_some_and(|d| d > clock::now());
    Ok(ok(
        json!({ "is_vip": is_vip, "vip_deadline": deadline.map(clock::format) }),
    ))
}

/// Extends the membership by `days` from `max(now, current deadline)`, in one statement: two
/// payments of one user at once both count.
pub async fn extend(
    db: &impl ConnectionTrait,
    user_id: i64,
    days: i32,
    now: i64,
) -> Result<(), AppError> {
    let add = i64::from(days) * 86_400;
    let row = vip_info::ActiveModel {
        user_id: Set(user_id),
        deadline: Set(now + add),
    };
    let deadline = Expr::col((vip_info::Entity, vip_info::Column::Deadline));
    let extended =
        Expr::case(deadline.clone().gt(now), deadline.add(add)).finally(Expr::value(now + add));
    vip_info::Entity::insert(row)
        .on_conflict(
            OnConflict::column(vip_info::Column::UserId)
                .value(vip_info::Column::Deadline, extended)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// What mine answers, for `/openapi.json`.
pub fn mine_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(shape([
        ("is_vip", json!({"type": "boolean"})),
        ("vip_deadline", nullable(time())),
    ]))
}

/// What require_vip answers, for `/openapi.json`.
pub fn require_vip_doc() -> kotori::openapi::Declares {
    kotori::openapi::Declares::new().refuses(403, 40302, "VIP required")
}
