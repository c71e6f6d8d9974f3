//! Loading lives — on air for the front, any for admins, only their own for hosts — and
//! listing and creating them.

use kotori::{Json, Path, Res, State};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};
use serde_json::Value;

use super::{LiveRoom, ON_AIR, lives_json};
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::{
    self,
    entity::rooms::{live, operator},
};
use crate::envelope::ok;
use crate::manage::{Audit, Operator};
use crate::paging::Page;
use crate::params::Params;
use crate::state::AppState;
use crate::validate;

async fn find(state: &AppState, live_id: i64) -> Result<Option<live::Model>, AppError> {
    Ok(live::Entity::find_by_id(live_id).one(&state.db).await?)
}

/// The front's `/api/live/{live_id}`: a live on the air; finished or unknown is 40401.
#[kotori::loader]
pub async fn load_on_air_live(
    Path(live_id): Path<i64>,
    State(state): State<AppState>,
) -> Result<LiveRoom, AppError> {
    find(&state, live_id)
        .await?
        .filter(super::on_air)
        .map(LiveRoom)
        .ok_or_else(codes::not_found)
}

/// The admin's `live/{live_id}`: any host's live, finished too.
#[kotori::loader]
pub async fn load_any_live(
    Path(live_id): Path<i64>,
    State(state): State<AppState>,
) -> Result<LiveRoom, AppError> {
    find(&state, live_id)
        .await?
        .map(LiveRoom)
        .ok_or_else(codes::not_found)
}

/// The host's `live/{live_id}`: only the host's own lives; another host's is 40401, as if it
/// did not exist.
#[kotori::loader]
pub async fn load_own_live(
    Path(live_id): Path<i64>,
    op: Res<Operator>,
    State(state): State<AppState>,
) -> Result<LiveRoom, AppError> {
    find(&state, live_id)
        .await?
        .filter(|l| l.host_id == op.id)
        .map(LiveRoom)
        .ok_or_else(codes::not_found)
}

/// A page of `query`'s lives; its total counted, or kept under `kept` (`paging::cached_total`)
/// where the count is a scan of every live.
async fn page_of(
    state: &AppState,
    params: &Params,
    query: Select<live::Entity>,
    kept: Option<&str>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(params)?;
    let query = query.order_by_desc(live::Column::Id);
    let (total, lives) = page.load_with(state.lists(), kept, query).await?;
    Ok(ok(page.answer(total, lives_json(&state.db, &lives).await?)))
}

/// `GET /api/live/list`: the lives on the air.
pub async fn list_on_air(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    page_of(
        &state,
        &params,
        live::Entity::find().filter(live::Column::Status.eq(ON_AIR)),
        None,
    )
    .await
}

/// The kept total of every live (`paging::cached_total`); all of one status are kept under
/// `lives:on_air` and `lives:finished`.
pub const ALL_LIVES: &str = "lives:all";

/// The admin's `live/list.json`: every live, optionally of one `status`.
pub async fn list_all(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let mut query = live::Entity::find();
    // Every live ever aired, or all of one status: a scan, so its total is kept (at most
    // `paging::TOTAL_TTL` old) instead of counted by the request.
    let kept = match params.get("status").filter(|s| !s.is_empty()) {
        None => ALL_LIVES,
        Some(status @ ("on_air" | "finished")) => {
            query = query.filter(live::Column::Status.eq(status));
            if status == "on_air" {
                "lives:on_air"
            } else {
                "lives:finished"
            }
        }
        Some(_) => return Err(codes::malformed("status", "on_air or finished")),
    };
    page_of(&state, &params, query, Some(kept)).await
}

/// The host's `live/list.json`: their own lives.
pub async fn list_own(
    op: Res<Operator>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    page_of(
        &state,
        &params,
        live::Entity::find().filter(live::Column::HostId.eq(op.id)),
        None,
    )
    .await
}

/// The host's `live/create.json` (title): one live on the air per host (40901).
pub async fn create(
    op: Res<Operator>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let title = validate::text("title", params.required("title")?, 1, 64)?;
    // Check and insert under the host's row lock: of concurrent creates, one goes on the air.
    let host = op.id;
    let row = db::in_transaction(&state.db, |txn| {
        let (title, op) = (title.clone(), op.clone());
        Box::pin(async move {
            operator::Entity::find_by_id(host)
                .lock_exclusive()
                .one(txn)
                .await?;
            let on_air = live::Entity::find()
                .filter(live::Column::HostId.eq(host))
                .filter(live::Column::Status.eq(ON_AIR))
                .count(txn)
                .await?;
            if on_air > 0 {
                return Err(codes::conflict("you already have a live on the air"));
            }
            let row = live::ActiveModel {
                host_id: Set(host),
                title: Set(title),
                status: Set(ON_AIR.into()),
                start_time: Set(clock::now()),
                end_time: Set(None),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Audit::new(&op, "live.create", format!("live:{}", row.id))
                .note(&row.title)
                .write(txn)
                .await?;
            Ok(row)
        })
    })
    .await?;
    Ok(ok(super::live_json(&row, Some(&op.name))))
}

/// What load_live reads and answers, for `/openapi.json`.
pub fn load_live_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(id("live_id"))
        .refuses(404, 40401, "no such live (on the air, or yours)")
}

/// What list_all reads and answers, for `/openapi.json`.
pub fn list_all_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    paged_of(super::live_schema())
        .param(optional("status", json!({"enum": ["on_air", "finished"]})))
}

/// What create reads and answers, for `/openapi.json`.
pub fn create_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(super::live_schema())
        .param(required("title", text(1, 64)))
        .refuses(409, 40901, "one live on the air per host")
}

/// What the lists of lives on the air, or of a host's own, answer, for `/openapi.json`.
pub fn list_doc() -> kotori::openapi::Declares {
    crate::openapi::paged_of(super::live_schema())
}
