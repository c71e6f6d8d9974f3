//! Danmaku moderation in the live-actions subtree (admins and the live's host, one
//! definition): hiding a danmaku, and slow mode.

use crate::manage::{Audit, Operator};
use std::time::Duration;

use kotori::{Json, Path, Res, State};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{Value, json};

use super::LiveRoom;
use crate::codes::{self, AppError};
use crate::db::entity::rooms::{danmaku, live};
use crate::envelope::ok;
use crate::params::Params;
use crate::realtime::{self, Route};
use crate::state::AppState;
use crate::store::{Hold, Store};

/// The longest slow-mode interval, in seconds.
pub const SLOW_MODE_MAX: i32 = 300;

/// A danmaku of the loaded live.
#[derive(Clone, Debug)]
pub struct LiveDanmaku(pub danmaku::Model);

/// `danmaku/{danmaku_id}` under a live: another live's danmaku is 40401.
#[kotori::loader]
pub async fn load_live_danmaku(
    Path(danmaku_id): Path<i64>,
    room: Res<LiveRoom>,
    State(state): State<AppState>,
) -> Result<LiveDanmaku, AppError> {
    danmaku::Entity::find_by_id(danmaku_id)
        .filter(danmaku::Column::LiveId.eq(room.0.id))
        .one(&state.db)
        .await?
        .map(LiveDanmaku)
        .ok_or_else(codes::not_found)
}

/// Hides the loaded danmaku from every list (kept for the record); hiding twice is `{}`.
pub async fn delete_danmaku(
    found: Res<LiveDanmaku>,
    operator: Res<Operator>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let mut row = found.0.clone().into_active_model();
    row.deleted = Set(true);
    let txn = crate::db::begin(&state.db).await?;
    row.update(&txn).await?;
    Audit::new(
        &operator,
        "live.delete_danmaku",
        format!("danmaku:{}", found.0.id),
    )
    .note(format!(
        "live:{} from user:{}",
        found.0.live_id, found.0.user_id
    ))
    .write(&txn)
    .await?;
    txn.commit().await?;
    let gone = json!({ "live_id": found.0.live_id, "danmaku_id": found.0.id });
    let pushed = realtime::event("danmaku_deleted", gone.clone());
    state
        .hub
        .publish(Route::Live(found.0.live_id), pushed, None)
        .await;
    Ok(ok(gone))
}

/// Sets slow mode: a viewer may post once per `seconds` (0 to 300; 0 turns it off).
pub async fn slow_mode(
    room: Res<LiveRoom>,
    operator: Res<Operator>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let seconds: i32 = params.parse_required("seconds")?;
    if !(0..=SLOW_MODE_MAX).contains(&seconds) {
        return Err(codes::malformed("seconds", "from 0 to 300"));
    }
    let mut row = room.0.clone().into_active_model();
    row.slow_mode_secs = Set(seconds);
    let txn = crate::db::begin(&state.db).await?;
    let live: live::Model = row.update(&txn).await?;
    Audit::new(&operator, "live.slow_mode", format!("live:{}", live.id))
        .note(format!("{seconds} seconds"))
        .write(&txn)
        .await?;
    txn.commit().await?;
    Ok(ok(
        json!({ "live_id": live.id, "slow_mode_secs": live.slow_mode_secs }),
    ))
}

/// Slow mode for one post: the viewer's first post in the interval passes and starts it (the
/// interval's hold, `None` without slow mode); a second is 42901 with the seconds left.
pub async fn check_slow_mode(
    store: &dyn Store,
    live: &live::Model,
    user_id: i64,
) -> Result<Option<Hold>, AppError> {
    if live.slow_mode_secs <= 0 {
        return Ok(None);
    }
    let interval = Duration::from_secs(live.slow_mode_secs as u64);
    let key = slow_key(live.id, user_id);
    if let Some(hold) = Hold::take(store, key.as_str(), interval).await? {
        return Ok(Some(hold));
    }
    let left = store.ttl(&key).await?.unwrap_or(interval);
    Err(codes::rate_limited(left.as_secs().max(1)))
}

/// Gives back the slow-mode interval [`check_slow_mode`] started for a danmaku that was not
/// stored — if it is still that post's. Best effort: a store that fails here leaves the
/// interval to run out.
pub async fn forget_slow_mode(store: &dyn Store, interval: Option<Hold>) {
    if let Some(interval) = interval {
        interval.give_back_or_expire(store).await;
    }
}

/// The mark of a viewer's last danmaku in a live under slow mode.
pub fn slow_key(live_id: i64, user_id: i64) -> String {
    format!("slow:{live_id}:{user_id}")
}

/// What load_live_danmaku reads and answers, for `/openapi.json`.
pub fn load_live_danmaku_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(id("danmaku_id"))
        .refuses(404, 40401, "no such danmaku in this live")
}

/// What slow_mode reads and answers, for `/openapi.json`.
pub fn slow_mode_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(shape([
        ("live_id", integer()),
        ("slow_mode_secs", int(0, 300)),
    ]))
    .param(required("seconds", int(0, 300)))
}

/// What delete_danmaku answers, for `/openapi.json`.
pub fn delete_danmaku_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(shape([("live_id", integer()), ("danmaku_id", integer())]))
}
