//! The live-actions subtree: ONE definition, mounted under admin (any live, with privileges)
//! and under shops (only the host's own lives). What a route may touch is decided by the
//! loader and guards above the mount, never here.

use kotori::{Json, Node, Res, State};
use md5::{Digest, Md5};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};

use super::danmaku::{self, Mute};
use super::moderation;
use super::{FINISHED, LiveRoom, lives_json};
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::rooms::live_mute;
use crate::envelope::{object, ok};
use crate::hex;
use crate::manage::{Audit, Operator, forms};
use crate::params::Params;
use crate::people::account::{self, Take};
use crate::realtime::{self, Route};
use crate::state::AppState;

/// The actions, in two groups the caller may guard differently (admins need `live:read` to
/// read and `live:write` to act; a host may do both on their own lives).
pub struct LiveActions {
    /// The `GET` routes: they change nothing.
    pub read: Node<AppState>,
    /// The `POST` routes: they change the live.
    pub write: Node<AppState>,
}

/// Mounts the actions on a node that loads a [`LiveRoom`].
pub fn mount(live: &Node<AppState>) -> LiveActions {
    // A finished live can still be read, its danmaku moderated and its mutes lifted; pushing
    // to it, finishing it again or muting in it is 40901, by one guard.
    let on_air = || kotori::declare(require_on_air, require_on_air_doc());
    let read = live.group();
    read.get("/show.json", show).declares(super::live_doc());
    read.group()
        .guard(on_air())
        .get("/push_url.json", push_url)
        .declares(push_url_doc());
    read.get("/danmaku.json", danmaku::list_all)
        .declares(danmaku::list_doc());
    read.get("/group_shutted_user.json", muted)
        .declares(muted_doc());
    // Each action twice: `{name}.json` for the API, `{name}` for the console's form.
    let write = live.group();
    let acting = write.group().guard(on_air());
    forms::action(&acting, "/finish", finish).declares(super::live_doc());
    forms::action(&acting, "/forbid_send_msg", forbid).declares(forbid_doc());
    forms::action(&write, "/unforbid_send_msg", unforbid).declares(unforbid_doc());
    forms::action(&write, "/slow_mode", moderation::slow_mode)
        .declares(moderation::slow_mode_doc());
    let one = write.node("/danmaku/{danmaku_id}").load(kotori::declare(
        moderation::load_live_danmaku,
        moderation::load_live_danmaku_doc(),
    ));
    forms::action(&one, "/delete", moderation::delete_danmaku)
        .declares(moderation::delete_danmaku_doc());
    LiveActions { read, write }
}

/// The loaded live.
pub async fn show(
    room: Res<LiveRoom>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let mut list = lives_json(&state.db, std::slice::from_ref(&room.0)).await?;
    Ok(ok(list.remove(0)))
}

/// How long a push URL stays valid.
pub const PUSH_URL_SECS: i64 = 24 * 3600;

/// An RTMP push URL with an expiring signed key:
/// `txSecret = md5(push_key + stream_name + txTime)`, `txTime` the expiry as hex Unix seconds.
pub fn push_url_for(domain: &str, key: &str, live_id: i64, expires_at: i64) -> String {
    let stream = format!("live_{live_id}");
    let tx_time = format!("{expires_at:X}");
    let secret = hex::encode(&Md5::digest(format!("{key}{stream}{tx_time}").as_bytes()));
    format!("rtmp://{domain}/live/{stream}?txSecret={secret}&txTime={tx_time}")
}

/// Above the actions that need the live on the air (a push URL, finishing, muting): a finished
/// live is 40901.
pub fn require_on_air(room: Res<LiveRoom>) -> Result<(), AppError> {
    match super::on_air(&room.0) {
        true => Ok(()),
        false => Err(codes::conflict("the live is finished")),
    }
}

/// What require_on_air answers, for `/openapi.json`.
pub fn require_on_air_doc() -> kotori::openapi::Declares {
    kotori::openapi::Declares::new().refuses(409, 40901, "the live is finished")
}

/// A push URL for the loaded live (on the air: [`require_on_air`]).
pub async fn push_url(
    room: Res<LiveRoom>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let url = push_url_for(
        &state.config.push.domain,
        &state.config.push.key,
        room.0.id,
        clock::now() + PUSH_URL_SECS,
    );
    Ok(ok(json!({ "push_url": url })))
}

/// Ends the live for everyone: off the list, no more danmaku, mutes lapse.
pub async fn finish(
    room: Res<LiveRoom>,
    operator: Res<Operator>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let mut row = room.0.clone().into_active_model();
    row.status = Set(FINISHED.into());
    row.end_time = Set(Some(clock::now()));
    let txn = crate::db::begin(&state.db).await?;
    let finished = row.update(&txn).await?;
    live_mute::Entity::delete_many()
        .filter(live_mute::Column::LiveId.eq(finished.id))
        .exec(&txn)
        .await?;
    Audit::new(&operator, "live.finish", format!("live:{}", finished.id))
        .write(&txn)
        .await?;
    txn.commit().await?;
    let ended = realtime::event("live_finished", json!({ "live_id": finished.id }));
    state
        .hub
        .publish(Route::Live(finished.id), ended, None)
        .await;
    let mut list = lives_json(&state.db, std::slice::from_ref(&finished)).await?;
    Ok(ok(list.remove(0)))
}

/// Mutes `user_id` in the loaded live for `minutes` (default: until the live ends).
pub async fn forbid(
    room: Res<LiveRoom>,
    operator: Res<Operator>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let user_id: i64 = params.parse_required("user_id")?;
    let minutes = params.parse_optional::<i64>("minutes")?;
    if minutes.is_some_and(|m| !(1..=43_200).contains(&m)) {
        return Err(codes::malformed("minutes", "1 to 43200 (30 days)"));
    }
    let now = clock::now();
    let until = minutes.map(|m| now + m * 60);
    let row = live_mute::ActiveModel {
        live_id: Set(room.0.id),
        user_id: Set(user_id),
        until: Set(until),
        created_at: Set(now),
    };
    let txn = crate::db::begin(&state.db).await?;
    // Someone to mute: not unknown, not erased. Their row is taken for update: an erasure
    // (which deletes the account's mutes) waits for the mute, and a danmaku on its way (which
    // holds the poster's row) lands before it, or waits and then sees it.
    account::take(&txn, &[user_id], Take::Update)
        .await?
        .existing(user_id)?;
    live_mute::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([live_mute::Column::LiveId, live_mute::Column::UserId])
                .update_columns([live_mute::Column::Until, live_mute::Column::CreatedAt])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    Audit::new(&operator, "live.mute", format!("live:{}", room.0.id))
        .note(match minutes {
            Some(m) => format!("user:{user_id} for {m} minutes"),
            None => format!("user:{user_id} until the live ends"),
        })
        .write(&txn)
        .await?;
    txn.commit().await?;
    Ok(ok(
        json!({ "user_id": user_id, "until": until.map(clock::format) }),
    ))
}

/// Lifts the mute of `user_id` in the loaded live.
pub async fn unforbid(
    room: Res<LiveRoom>,
    operator: Res<Operator>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let user_id: i64 = params.parse_required("user_id")?;
    let txn = crate::db::begin(&state.db).await?;
    live_mute::Entity::delete_many()
        .filter(live_mute::Column::LiveId.eq(room.0.id))
        .filter(live_mute::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    Audit::new(&operator, "live.unmute", format!("live:{}", room.0.id))
        .note(format!("user:{user_id}"))
        .write(&txn)
        .await?;
    txn.commit().await?;
    Ok(ok(json!({ "user_id": user_id })))
}

/// The users muted in the loaded live now.
pub async fn muted(
    room: Res<LiveRoom>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let now = clock::now();
    let rows = live_mute::Entity::find()
        .filter(live_mute::Column::LiveId.eq(room.0.id))
        .order_by_asc(live_mute::Column::CreatedAt)
        // Mutes of one second list in one order on every database.
        .order_by_asc(live_mute::Column::UserId)
        .all(&state.db)
        .await?;
    let active: Vec<&live_mute::Model> =
        rows.iter().filter(|m| Mute::from(*m).active(now)).collect();
    let users =
        crate::users::by_id::<crate::people::Card>(&state.db, active.iter().map(|m| m.user_id))
            .await?;
    let list: Vec<Value> = active.iter().map(|m| json!({ "user_id": m.user_id, "nickname": users.get(&m.user_id).map(|u| &u.nickname), "until": m.until.map(clock::format) })).collect();
    Ok(ok(object([("list", Value::Array(list))])))
}

/// What forbid reads and answers, for `/openapi.json`.
pub fn forbid_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(shape([
        ("user_id", integer()),
        ("until", json!({"anyOf": [time(), {"type": "null"}], "description": "null: until the live ends"})),
    ]))
        .param(required(
            "user_id",
            json!({"type": "integer", "minimum": 1}),
        ))
        .param(optional(
            "minutes",
            json!({"type": "integer", "minimum": 1, "maximum": 43_200}),
        ))
        .refuses(
            404,
            40401,
            "no such user (unknown, or the account was erased)",
        )
}

/// What unforbid reads and answers, for `/openapi.json`.
pub fn unforbid_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(shape([("user_id", integer())])).param(required(
        "user_id",
        json!({"type": "integer", "minimum": 1}),
    ))
}

/// What push_url answers, for `/openapi.json`.
pub fn push_url_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(shape([("push_url", string())]))
}

/// What muted answers, for `/openapi.json`: the mutes in force.
pub fn muted_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(list_of(shape([
        ("user_id", integer()),
        ("nickname", nullable(string())),
        ("until", nullable(time())),
    ])))
}

#[cfg(test)]
mod tests {
    use super::push_url_for;

    #[test]
    fn push_urls_are_signed_with_the_hex_expiry() {
        let url = push_url_for("push.example.com", "key", 7, 0x6000_0000);
        // md5("key" + "live_7" + "60000000"), computed independently (Python's hashlib).
        assert_eq!(
            url,
            "rtmp://push.example.com/live/live_7?txSecret=6f1e466a852832d4a4dc9710d1c2273c&txTime=60000000"
        );
    }
}
