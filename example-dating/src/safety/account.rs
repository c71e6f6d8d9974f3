//! `POST /api/me/delete` and `GET /api/me/export`: erasing an account, and everything held
//! about it.

use std::time::Duration;

use kotori::{Json, Res, State};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::chat::messages::message_json;
use crate::clock;
use crate::codes::{self, AppError};
use crate::commerce::orders::order_json;
use crate::db::entity::chat::{contacts, message};
use crate::db::entity::commerce::{user_order, vip_info};
use crate::db::entity::rooms::{danmaku, live_mute};
use crate::db::entity::safety::{block, report};
use crate::db::entity::users::{location, user_info, visitor};
use crate::envelope::ok;
use crate::people::{account, visibility};
use crate::state::AppState;
use crate::users::profile::Me;
use crate::users::{album, labels, public_profile};

/// How often a user may export: once an hour.
pub const EXPORT_EVERY: Duration = Duration::from_secs(3600);

/// Erases the caller's account (`people::account::delete`: what goes, what stays).
pub async fn delete_me(
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    account::delete(&state, caller.user_id).await?;
    Ok(ok(json!({})))
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

/// The export document (docs/src/dating/api/safety.md), plus the rows of this app the reference does not name:
/// `danmaku_sent` and `mutes`.
pub async fn export(state: &AppState, user: &user_info::Model) -> Result<Value, AppError> {
    let db = &state.db;
    let id = user.user_id;
    let vip = vip_info::Entity::find_by_id(id).one(db).await?;
    // What anyone sees, and what only the owner does.
    let mut profile = public_profile(user);
    profile["phone"] = json!(user.phone);
    profile["email"] = json!(user.email);
    profile["authority"] = json!(user.authority.code());
    profile["banned"] = json!(user.banned);
    profile["created_at"] = json!(clock::format(user.created_at));
    profile["vip_deadline"] = json!(vip.map(|v| clock::format(v.deadline)));
    let location = location::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|l| json!({ "lat": l.lat, "lng": l.lng, "updated_at": clock::format(l.updated_at) }));
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
    // A visit names the other person only where the owner may see them now; the others are
    // listed (the owner's data is complete) without who it was.
    let others = visits_made
        .iter()
        .map(|v| v.viewed_id)
        .chain(visits_received.iter().map(|v| v.viewer_id));
    let seen = visibility::shown_to(db, id, others).await?;
    let visit = |v: &visitor::Model, other: i64| {
        let other = seen.contains_key(&other).then_some(other);
        json!({ "user_id": other, "visit_time": clock::format(v.visit_time) })
    };
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
