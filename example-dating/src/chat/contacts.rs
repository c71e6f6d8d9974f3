//! Contacts: one row per side of a conversation; `GET /api/contacts`.

use std::collections::HashSet;

use kotori::{Json, Res, State};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::clock;
use crate::codes::AppError;
use crate::db::entity::chat::contacts;
use crate::db::entity::users::user_info;
use crate::envelope::ok;
use crate::paging::Page;
use crate::params::Params;
use crate::safety::blocks;
use crate::state::AppState;

/// Whether two users have exchanged a message (either side's row exists).
pub async fn are_contacts(db: &impl ConnectionTrait, a: i64, b: i64) -> Result<bool, AppError> {
    let n = contacts::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(contacts::Column::UserId.eq(a))
                        .add(contacts::Column::PeerId.eq(b)),
                )
                .add(
                    Condition::all()
                        .add(contacts::Column::UserId.eq(b))
                        .add(contacts::Column::PeerId.eq(a)),
                ),
        )
        .count(db)
        .await?;
    Ok(n > 0)
}

/// Which of `users` are `user_id`'s contacts, among those visible to contacts only: whether
/// the others are contacts changes nothing about what the caller sees, so when there are none
/// nothing is read.
pub async fn among_contacts_only<'u>(
    db: &impl ConnectionTrait,
    user_id: i64,
    users: impl IntoIterator<Item = &'u user_info::Model>,
) -> Result<HashSet<i64>, AppError> {
    let candidates: Vec<i64> = users
        .into_iter()
        .filter(|u| u.authority == 2)
        .map(|u| u.user_id)
        .collect();
    if candidates.is_empty() {
        return Ok(HashSet::new());
    }
    let peers: Vec<i64> = contacts::Entity::find()
        .select_only()
        .column(contacts::Column::PeerId)
        .filter(contacts::Column::UserId.eq(user_id))
        .filter(contacts::Column::PeerId.is_in(candidates))
        .into_tuple()
        .all(db)
        .await?;
    Ok(peers.into_iter().collect())
}

/// The caller's conversations, most recent first.
pub async fn list(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(&params)?;
    let mine = contacts::Entity::find()
        .filter(contacts::Column::UserId.eq(caller.user_id))
        .filter(blocks::not_blocked_with(
            contacts::Column::PeerId,
            caller.user_id,
        ));
    let (total, rows) = page
        .load(
            &state.db,
            mine.order_by_desc(contacts::Column::UpdateTime)
                .order_by_desc(contacts::Column::Id),
        )
        .await?;
    let peers = crate::users::by_id(&state.db, rows.iter().map(|r| r.peer_id)).await?;
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
