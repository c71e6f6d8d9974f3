//! Live rooms: the front routes (`/api/live`), the loaders that decide who may touch a live,
//! and the live-actions subtree mounted under both admin and shops.

pub mod actions;
pub mod danmaku;
pub mod moderation;
pub mod rooms;

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::clock;
use crate::codes::AppError;
use crate::db::entity::rooms::{live, operator};

/// On the air.
pub const ON_AIR: &str = "on_air";
/// Ended, for everyone.
pub const FINISHED: &str = "finished";

/// Whether `live` is on the air: the one rule the front's loader, the danmaku post, the live
/// actions and the sockets' subscriptions ask (a live is on the air or finished; a third status
/// would be decided here, once).
pub fn on_air(live: &live::Model) -> bool {
    live.status == ON_AIR
}

/// The live a route is about, loaded (and checked) by the node above it.
#[derive(Clone, Debug)]
pub struct LiveRoom(pub live::Model);

/// A live as clients see it.
pub fn live_json(l: &live::Model, host_name: Option<&str>) -> Value {
    json!({
        "live_id": l.id,
        "title": l.title,
        "host_id": l.host_id,
        "host_name": host_name,
        "status": l.status,
        "start_time": clock::format(l.start_time),
        "end_time": l.end_time.map(clock::format),
    })
}

/// A live's schema, for `/openapi.json`.
pub fn live_schema() -> Value {
    use crate::openapi::*;
    shape([
        ("live_id", integer()),
        ("title", string()),
        ("host_id", integer()),
        ("host_name", nullable(string())),
        ("status", json!({"enum": ["on_air", "finished"]})),
        ("start_time", time()),
        ("end_time", nullable(time())),
    ])
}

/// What a route answering one live answers, for `/openapi.json`.
pub fn live_doc() -> kotori::openapi::Declares {
    crate::openapi::answers(live_schema())
}

/// Lives as JSON, with their hosts' names (one query for all).
pub async fn lives_json(
    db: &impl ConnectionTrait,
    lives: &[live::Model],
) -> Result<Vec<Value>, AppError> {
    if lives.is_empty() {
        return Ok(Vec::new());
    }
    let hosts: HashMap<i64, String> = operator::Entity::find()
        .filter(operator::Column::Id.is_in(lives.iter().map(|l| l.host_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(lives
        .iter()
        .map(|l| live_json(l, hosts.get(&l.host_id).map(String::as_str)))
        .collect())
}
