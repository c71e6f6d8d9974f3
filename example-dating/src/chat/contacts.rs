//! Contacts: one row per side of a conversation; `GET /api/contacts`.

use kotori::{Json, Res, State};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::clock;
use crate::codes::AppError;
use crate::db::entity::chat::contacts;
use crate::envelope::ok;
use crate::paging::Page;
use crate::params::Params;
use crate::people::graph;
use crate::state::AppState;

/// The caller's conversations, most recent first.
pub async fn list(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(&params)?;
    let mine = contacts::Entity::find()
        .filter(contacts::Column::UserId.eq(caller.user_id))
        .filter(graph::not_blocked_with(
            contacts::Column::PeerId,
            caller.user_id,
        ));
    let (total, rows) = page
        .load(
            state.lists(),
            mine.order_by_desc(contacts::Column::UpdateTime)
                .order_by_desc(contacts::Column::Id),
        )
        .await?;
    let peers =
        crate::users::by_id::<crate::people::Card>(&state.db, rows.iter().map(|r| r.peer_id))
            .await?;
    let list = rows
        .iter()
        .map(|row| {
            let peer = peers.get(&row.peer_id);
            json!({
                "peer": {
                    "user_id": row.peer_id,
                    "nickname": peer.map(|p| p.nickname.clone()),
                    "avatar": peer.and_then(|p| p.avatar.clone()),
                },
                "last_msg": row.last_msg,
                "unread": row.unread,
                "update_time": clock::format(row.update_time),
            })
        })
        .collect();
    Ok(ok(page.answer(total, list)))
}

/// What list reads and answers, for `/openapi.json`: conversations, most recent first.
pub fn list_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    paged_of(shape([
        (
            "peer",
            shape([
                ("user_id", integer()),
                ("nickname", nullable(string())),
                ("avatar", nullable(string())),
            ]),
        ),
        ("last_msg", nullable(string())),
        ("unread", json!({"type": "integer", "minimum": 0})),
        ("update_time", time()),
    ]))
}
