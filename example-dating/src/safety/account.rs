//! `POST /api/me/delete` and `GET /api/me/export`: erasing an account, and everything held
//! about it.

use std::time::Duration;

use kotori::{Json, Res, State};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde_json::{Value, json};

use crate::auth::{Caller, session};
use crate::chat::messages::message_json;
use crate::clock;
use crate::codes::{self, AppError};
use crate::commerce::orders::order_json;
use crate::db::entity::chat::{contacts, message};
use crate::db::entity::commerce::{user_order, vip_info};
use crate::db::entity::rooms::{danmaku, live_mute};
use crate::db::entity::safety::{block, report};
use crate::db::entity::users::{location, user_album, user_auth, user_info, user_label, visitor};
use crate::envelope::ok;
use crate::realtime::Route;
use crate::state::AppState;
use crate::users::geo;
use crate::users::profile::Me;
use crate::users::{album, labels, public_profile};

/// The name an erased account's messages and danmaku are shown from.
pub const DELETED_NICKNAME: &str = "deleted user";

/// How often a user may export: once an hour.
pub const EXPORT_EVERY: Duration = Duration::from_secs(3600);

/// Erases the caller's account, in one transaction: every session ends (40105 after); the
/// profile, album, labels, location, visits both ways, blocks, contacts, reports made, mutes and
/// membership are deleted; the login identity goes, so the phone registers anew. What others
/// hold stays: messages the user sent (from "deleted user"), danmaku, orders (for accounting,
/// no longer tied to the phone), reports about the user.
pub async fn delete_me(
    me: Res<Me>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let id = me.0.user_id;
    let now = clock::now();
    let txn = crate::db::begin(&state.db).await?;
    erase(&txn, &me.0, now).await?;
    // The sessions end before the commit: if the store is down, nothing is erased.
    session::revoke_all_in(&state, &txn, id).await?;
    txn.commit().await?;
    crate::users::hot::forget_total(&*state.store).await;
    let bye = Route::Close(id, "deleted".into());
    state.hub.publish(bye, Value::Null, None).await;
    // The index is derived from the (deleted) location row: a failure here only delays its
    // cleanup to the next rebuild, and nearby already hides the erased account.
    if let Err(e) = geo::remove(&*state.store, id).await {
        tracing::warn!(user_id = id, error = %e, "could not drop an erased user from the geo index");
    }
    Ok(ok(json!({})))
}

/// The rows of `user`, erased or emptied.
async fn erase(
    db: &impl ConnectionTrait,
    user: &user_info::Model,
    now: i64,
) -> Result<(), AppError> {
    let id = user.user_id;
    user_auth::Entity::delete_many()
        .filter(user_auth::Column::UserId.eq(id))
        .exec(db)
        .await?;
    user_album::Entity::delete_many()
        .filter(user_album::Column::UserId.eq(id))
        .exec(db)
        .await?;
    user_label::Entity::delete_many()
        .filter(user_label::Column::UserId.eq(id))
        .exec(db)
        .await?;
    location::Entity::delete_by_id(id).exec(db).await?;
    visitor::Entity::delete_many()
        .filter(
            visitor::Column::ViewerId
                .eq(id)
                .or(visitor::Column::ViewedId.eq(id)),
        )
        .exec(db)
        .await?;
    block::Entity::delete_many()
        .filter(
            block::Column::BlockerId
                .eq(id)
                .or(block::Column::BlockedId.eq(id)),
        )
        .exec(db)
        .await?;
    // The user's own conversation list goes; the peers keep theirs, now with "deleted user".
    contacts::Entity::delete_many()
        .filter(contacts::Column::UserId.eq(id))
        .exec(db)
        .await?;
    report::Entity::delete_many()
        .filter(report::Column::ReporterId.eq(id))
        .exec(db)
        .await?;
    live_mute::Entity::delete_many()
        .filter(live_mute::Column::UserId.eq(id))
        .exec(db)
        .await?;
    vip_info::Entity::delete_by_id(id).exec(db).await?;
    // The row stays as a tombstone that carries nothing personal.
    let mut row = user.clone().into_active_model();
    row.nickname = Set(DELETED_NICKNAME.into());
    row.phone = Set(String::new());
    row.email = Set(None);
    row.gender = Set(0);
    row.birthday = Set(None);
    row.avatar = Set(None);
    row.height = Set(None);
    row.emotion = Set(None);
    row.sexual = Set(None);
    row.education = Set(None);
    row.salary = Set(None);
    row.authority = Set(0);
    row.ban_reason = Set(None);
    row.updated_at = Set(now);
    row.deleted_at = Set(Some(now));
    row.update(db).await?;
    Ok(())
}

/// Everything held about the caller, complete and unpaged; once an hour (42901 with
/// `Retry-After` otherwise).
pub async fn export_me(
    me: Res<Me>,
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let key = format!("export:{}", caller.user_id);
    if !state.store.set_nx(&key, "1", EXPORT_EVERY).await? {
        let left = state.store.ttl(&key).await?.unwrap_or(EXPORT_EVERY);
        return Err(codes::rate_limited(left.as_secs()));
    }
    match export(&state, &me.0).await {
        Ok(all) => Ok(ok(all)),
        Err(e) => {
            // A failed export does not spend the hour's.
            let _ = state.store.del(&key).await;
            Err(e)
        }
    }
}

/// The export document (API.md §11), plus the rows of this app that §11 does not name:
/// `danmaku_sent` and `mutes`.
pub async fn export(state: &AppState, user: &user_info::Model) -> Result<Value, AppError> {
    let db = &state.db;
    let id = user.user_id;
    let vip = vip_info::Entity::find_by_id(id).one(db).await?;
    // What anyone sees, and what only the owner does.
    let mut profile = public_profile(user);
    profile["phone"] = json!(user.phone);
    profile["email"] = json!(user.email);
    profile["authority"] = json!(user.authority);
    profile["banned"] = json!(user.banned);
    profile["created_at"] = json!(clock::format(user.created_at));
    profile["vip_deadline"] = json!(vip.map(|v| clock::format(v.deadline)));
    let location = location::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|l| json!({ "lat": l.lat, "lng": l.lng, "updated_at": clock::format(l.updated_at) }));
    let visit = |v: &visitor::Model, other: i64| json!({ "user_id": other, "visit_time": clock::format(v.visit_time) });
    let visits_made = visitor::Entity::find()
        .filter(visitor::Column::ViewerId.eq(id))
        .order_by_asc(visitor::Column::Id)
        .all(db)
        .await?;
    let visits_received = visitor::Entity::find()
        .filter(visitor::Column::ViewedId.eq(id))
        .order_by_asc(visitor::Column::Id)
        .all(db)
        .await?;
    let messages = |column: message::Column| {
        message::Entity::find()
            .filter(column.eq(id))
            .order_by_asc(message::Column::Id)
            .all(db)
    };
    let messages_sent = messages(message::Column::FromUid).await?;
    let messages_received = messages(message::Column::ToUid).await?;
    let contacts = contacts::Entity::find()
        .filter(contacts::Column::UserId.eq(id))
        .order_by_asc(contacts::Column::Id)
        .all(db)
        .await?;
    let orders = user_order::Entity::find()
        .filter(user_order::Column::UserId.eq(id))
        .order_by_asc(user_order::Column::Id)
        .all(db)
        .await?;
    let blocks = block::Entity::find()
        .filter(block::Column::BlockerId.eq(id))
        .order_by_asc(block::Column::Id)
        .all(db)
        .await?;
    let reports = report::Entity::find()
        .filter(report::Column::ReporterId.eq(id))
        .order_by_asc(report::Column::Id)
        .all(db)
        .await?;
    let danmaku = danmaku::Entity::find()
        .filter(danmaku::Column::UserId.eq(id))
        .order_by_asc(danmaku::Column::Id)
        .all(db)
        .await?;
    let mutes = live_mute::Entity::find()
        .filter(live_mute::Column::UserId.eq(id))
        .all(db)
        .await?;
    Ok(json!({
        "profile": profile,
        "labels": labels::labels_of(db, id).await?,
        "album": album::photos_of(db, id).await?,
        "location": location,
        "visits_made": visits_made.iter().map(|v| visit(v, v.viewed_id)).collect::<Vec<_>>(),
        "visits_received": visits_received.iter().map(|v| visit(v, v.viewer_id)).collect::<Vec<_>>(),
        "messages_sent": messages_sent.iter().map(message_json).collect::<Vec<_>>(),
        "messages_received": messages_received.iter().map(message_json).collect::<Vec<_>>(),
        "contacts": contacts.iter().map(|c| json!({
            "peer_id": c.peer_id,
            "last_msg": c.last_msg,
            "unread": c.unread,
            "update_time": clock::format(c.update_time),
        })).collect::<Vec<_>>(),
        "orders": orders.iter().map(order_json).collect::<Vec<_>>(),
        "blocks": blocks.iter().map(|b| json!({
            "user_id": b.blocked_id,
            "created_at": clock::format(b.created_at),
        })).collect::<Vec<_>>(),
        "reports_made": reports.iter().map(|r| json!({
            "report_id": r.id,
            "user_id": r.reported_id,
            "reason": r.reason,
            "detail": r.detail,
            "msg_id": r.msg_id,
            "status": r.status,
            "created_at": clock::format(r.created_at),
        })).collect::<Vec<_>>(),
        "danmaku_sent": danmaku.iter().map(|d| json!({
            "danmaku_id": d.id,
            "live_id": d.live_id,
            "content": d.content,
            "send_time": clock::format(d.send_time),
        })).collect::<Vec<_>>(),
        "mutes": mutes.iter().map(|m| json!({
            "live_id": m.live_id,
            "until": m.until.map(clock::format),
        })).collect::<Vec<_>>(),
    }))
}

/// What export_me reads and answers, for `/openapi.json`.
pub fn export_me_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new().refuses(429, 42901, "one export per hour")
}
