//! Blocks: `POST /api/me/blocks/add`, `GET /api/me/blocks`, `POST /api/me/blocks/{id}/delete`,
//! and the rule every list and loader applies — a block hides each side from the other.

use std::collections::HashSet;

use kotori::{Json, Path, Res, State};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::safety::block;
use crate::envelope::ok;
use crate::paging::Page;
use crate::params::Params;
use crate::realtime::Route;
use crate::state::AppState;
use crate::users::public_profile;

/// `column` is none of the users `me` blocked or who blocked `me`: the filter every list of
/// people adds (hot, visitors, contacts).
pub fn not_blocked_with(
    column: impl sea_orm::sea_query::IntoColumnRef + Clone,
    me: i64,
) -> SimpleExpr {
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
pub async fn between(db: &impl ConnectionTrait, a: i64, b: i64) -> Result<bool, AppError> {
    let found = block::Entity::find()
        .filter(
            (block::Column::BlockerId
                .eq(a)
                .and(block::Column::BlockedId.eq(b)))
            .or(block::Column::BlockerId
                .eq(b)
                .and(block::Column::BlockedId.eq(a))),
        )
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Everyone `me` blocked or who blocked `me` (for lists filtered in memory, like nearby).
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

/// Blocks `user_id`: yourself is 40002, an unknown user 40401; blocking twice is still `{}`.
pub async fn add(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let user_id: i64 = params.parse_required("user_id")?;
    if user_id == caller.user_id {
        return Err(codes::malformed("user_id", "you cannot block yourself"));
    }
    if !crate::users::exists(&state.db, user_id).await? {
        return Err(codes::not_found());
    }
    let row = block::ActiveModel {
        blocker_id: Set(caller.user_id),
        blocked_id: Set(user_id),
        created_at: Set(clock::now()),
        ..Default::default()
    };
    // The unique pair makes a second block (even a concurrent one) a no-op.
    block::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                block::Column::BlockerId,
                block::Column::BlockedId,
            ])
            // MySQL has no DO NOTHING: its polyfill updates a column to itself.
            .do_nothing_on([block::Column::BlockerId])
            .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await?;
    // Open connections of both stop passing each other's events at once.
    let route = Route::Blocked(caller.user_id, user_id, true);
    state.hub.publish(route, Value::Null, None).await;
    Ok(ok(json!({})))
}

/// The caller's block of the user the path names.
#[derive(Clone, Debug)]
pub struct OwnBlock(pub block::Model);

/// The block of `{user_id}` by the caller; not blocked is 40401.
#[kotori::loader]
pub async fn load_own_block(
    Path(user_id): Path<i64>,
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<OwnBlock, AppError> {
    block::Entity::find()
        .filter(block::Column::BlockerId.eq(caller.user_id))
        .filter(block::Column::BlockedId.eq(user_id))
        .one(&state.db)
        .await?
        .map(OwnBlock)
        .ok_or_else(codes::not_found)
}

/// Lifts the loaded block.
pub async fn delete(
    own: Res<OwnBlock>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    block::Entity::delete_by_id(own.0.id)
        .exec(&state.db)
        .await?;
    Ok(ok(json!({})))
}

/// The users the caller blocked, newest block first, as public profiles.
pub async fn list(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(&params)?;
    let mine = block::Entity::find()
        .filter(block::Column::BlockerId.eq(caller.user_id))
        .order_by_desc(block::Column::Id);
    let (total, rows) = page.load(&state.db, mine).await?;
    let users = crate::users::by_id(&state.db, rows.iter().map(|b| b.blocked_id)).await?;
    let list = rows
        .iter()
        .filter_map(|b| users.get(&b.blocked_id))
        .map(public_profile)
        .collect();
    Ok(ok(page.answer(total, list)))
}

/// What load_own_block reads and answers, for `/openapi.json`.
pub fn load_own_block_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(id("user_id"))
        .refuses(404, 40401, "not blocked")
}

/// What add reads and answers, for `/openapi.json`.
pub fn add_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(required(
            "user_id",
            json!({"type": "integer", "minimum": 1}),
        ))
        .refuses(404, 40401, "no such user")
}
