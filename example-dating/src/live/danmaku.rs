//! Danmaku: comments on a live, read oldest first with a cursor; posting is refused to muted
//! users (40304).

use kotori::{Json, Res, State};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::{Value, json};

use super::{LiveRoom, moderation};
use crate::auth::Caller;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::{
    self,
    entity::rooms::{danmaku, live, live_mute},
};
use crate::envelope::{object, ok};
use crate::params::Params;
use crate::people::account::{self, Take};
use crate::people::graph;
use crate::realtime::{self, Route};
use crate::state::AppState;
use crate::store::Hold;
use crate::validate;

/// A mute, as far as time goes.
pub struct Mute {
    until: Option<i64>,
}

impl From<&live_mute::Model> for Mute {
    fn from(m: &live_mute::Model) -> Self {
        Mute { until: m.until }
    }
}

impl Mute {
    /// Whether it still holds at `now` (no end: until the live ends).
    pub fn active(&self, now: i64) -> bool {
        self.until.is_none_or(|until| until > now)
    }
}

/// The danmaku of the loaded live after `after_id`, oldest first, at most `limit` (default 50,
/// at most 200), with the cursor for the next call. Never those of someone the caller blocked
/// or who blocked the caller (as the real-time events): the rule is in the query, so a page
/// is full whenever more danmaku follow.
pub async fn list(
    room: Res<LiveRoom>,
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    read(&state, &room, &params, Some(caller.user_id)).await
}

/// [`list`] for the live's operators (admins, its host): every danmaku not deleted.
pub async fn list_all(
    room: Res<LiveRoom>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    read(&state, &room, &params, None).await
}

/// A page of danmaku; `viewer`'s blocks taken out.
async fn read(
    state: &AppState,
    room: &LiveRoom,
    params: &Params,
    viewer: Option<i64>,
) -> Result<Json<Value>, AppError> {
    let limit = params.parse_optional::<u64>("limit")?.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(codes::malformed("limit", "from 1 to 200"));
    }
    let mut query = danmaku::Entity::find()
        .filter(danmaku::Column::LiveId.eq(room.0.id))
        .filter(danmaku::Column::Deleted.eq(false));
    if let Some(viewer) = viewer {
        query = query.filter(graph::not_blocked_with(danmaku::Column::UserId, viewer));
    }
    if let Some(after) = params.parse_optional::<i64>("after_id")? {
        query = query.filter(danmaku::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(danmaku::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?;
    let users =
        crate::users::by_id::<crate::people::Card>(&state.db, rows.iter().map(|d| d.user_id))
            .await?;
    // The cursor is the last id seen (or the one given): polling with it returns only news.
    let next = rows
        .last()
        .map(|d| d.id)
        .or(params.parse_optional::<i64>("after_id")?);
    let list: Vec<Value> = rows
        .iter()
        .map(|d| danmaku_json(d, users.get(&d.user_id).map(|u| u.nickname.as_str())))
        .collect();
    let next = json!(next);
    Ok(ok(object([
        ("list", Value::Array(list)),
        ("next_after_id", next),
    ])))
}

fn danmaku_json(d: &danmaku::Model, nickname: Option<&str>) -> Value {
    json!({ "danmaku_id": d.id, "live_id": d.live_id, "user_id": d.user_id, "nickname": nickname, "content": d.content, "send_time": clock::format(d.send_time) })
}

/// Posts `content` (1–100 characters) to the loaded live; a muted user gets 40304, a second
/// post within the live's slow-mode interval 42901.
///
/// Slow mode is asked first, of the store alone: a post inside the viewer's interval is refused
/// without a transaction (after one read of the poster's mute, so that a muted viewer is told
/// 40304 rather than when to retry) — a flood of refused posts never takes the database's
/// write lock (SQLite's one writer), and no transaction waits on the store. A post that took
/// the interval and is then refused, or fails, gives it back: a 50301 spends no interval, and
/// a danmaku that got an answer other than 0 was not stored.
pub async fn post(
    room: Res<LiveRoom>,
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let content = validate::text("content", params.required("content")?, 1, 100)?;
    let now = clock::now();
    let (live_id, user_id) = (room.0.id, caller.user_id);
    let store = &*state.store;
    // Slow mode as the loader found the live; the transaction follows it as it is then.
    let mut interval = match moderation::check_slow_mode(store, &room.0, user_id).await {
        Ok(interval) => interval,
        // A muted viewer is told so, not when to retry.
        Err(_) if muted(&state.db, live_id, user_id, now).await? => return Err(codes::muted()),
        Err(refused) => return Err(refused),
    };
    let (row, nickname) = match write(&state, live_id, user_id, content, now, &mut interval).await {
        Ok(written) => written,
        Err(e) => {
            moderation::forget_slow_mode(store, interval).await;
            return Err(e);
        }
    };
    let json = danmaku_json(&row, Some(nickname.as_str()));
    let pushed = realtime::event("danmaku", json.clone());
    state
        .hub
        .publish(Route::Live(row.live_id), pushed, Some(user_id))
        .await;
    Ok(ok(json))
}

/// Checks and writes a danmaku in one transaction that holds the live's row and the poster's
/// (`FOR SHARE`): a finish (which updates the live), a mute (which takes the poster's row for
/// update), a ban or an erasure that commits while the post is on its way waits for it, or is
/// seen by it — a danmaku never lands after the live ended or its poster was muted. The mute
/// is read after the locks, in a statement of its own (on PostgreSQL a statement sees what was
/// committed when it began). Returns the row and the poster's nickname.
async fn write(
    state: &AppState,
    live_id: i64,
    user_id: i64,
    content: String,
    now: i64,
    interval: &mut Option<Hold>,
) -> Result<(danmaku::Model, String), AppError> {
    let txn = db::begin(&state.db).await?;
    // The loader saw the live on the air; it may have finished since.
    let current = live::Entity::find_by_id(live_id)
        .lock_shared()
        .one(&txn)
        .await?;
    let Some(current) = current.filter(super::on_air) else {
        return Err(codes::not_found());
    };
    let me = account::take_caller(&txn, user_id, Take::Share).await?;
    if muted(&txn, live_id, user_id, now).await? {
        return Err(codes::muted());
    }
    // Slow mode turned on or off in the moments since the loader read the live.
    match (current.slow_mode_secs > 0, interval.is_some()) {
        (true, false) => {
            *interval = moderation::check_slow_mode(&*state.store, &current, user_id).await?
        }
        (false, true) => moderation::forget_slow_mode(&*state.store, interval.take()).await,
        _ => {}
    }
    let row = danmaku::ActiveModel {
        live_id: Set(live_id),
        user_id: Set(user_id),
        content: Set(content),
        send_time: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok((row, me.nickname))
}

/// Whether `user_id` is muted in `live_id` at `now`.
async fn muted(
    db: &impl ConnectionTrait,
    live_id: i64,
    user_id: i64,
    now: i64,
) -> Result<bool, AppError> {
    let mute = live_mute::Entity::find_by_id((live_id, user_id))
        .one(db)
        .await?;
    Ok(mute.is_some_and(|m| Mute::from(&m).active(now)))
}

/// A danmaku's schema, for `/openapi.json`.
pub fn danmaku_schema() -> Value {
    use crate::openapi::*;
    shape([
        ("danmaku_id", integer()),
        ("live_id", integer()),
        ("user_id", integer()),
        ("nickname", nullable(string())),
        ("content", string()),
        ("send_time", time()),
    ])
}

/// What list reads and answers, for `/openapi.json`.
pub fn list_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(shape([
        ("list", json!({"type": "array", "items": danmaku_schema()})),
        ("next_after_id", nullable(integer())),
    ]))
    .param(optional("after_id", json!({"type": "integer"})))
    .param(optional(
        "limit",
        json!({"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
    ))
}

/// What post reads and answers, for `/openapi.json`.
pub fn post_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(danmaku_schema())
        .param(required("content", text(1, 100)))
        .refuses(403, 40304, "muted in this live room")
        .refuses(404, 40401, "the live is not on the air")
        .refuses(429, 42901, "slow mode: one danmaku per interval")
}
