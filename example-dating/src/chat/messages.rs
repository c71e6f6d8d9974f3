//! Messages under `/api/users/{user_id}`: send, and read the conversation with a cursor.

use std::time::Duration;

use kotori::{Json, Res, State};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::{
    self,
    entity::chat::{contacts, message},
};
use crate::envelope::{object, ok};
use crate::limits;
use crate::params::Params;
use crate::people::account::{self, Change};
use crate::people::graph;
use crate::realtime::{self, Route};
use crate::state::AppState;
use crate::store::{Hold, Store};
use crate::users::target::Target;
use crate::validate;

/// A message as its sender and recipient see it.
pub fn message_json(m: &message::Model) -> Value {
    json!({
        "msg_id": m.id,
        "from_uid": m.from_uid,
        "to_uid": m.to_uid,
        "msg_type": m.msg_type,
        "content": m.content,
        "audio": m.audio,
        "duration": m.duration,
        "image": m.image,
        "send_time": clock::format(m.send_time),
        "read": m.read,
    })
}

/// Sends a text, audio or image message to the loaded user. The message and both contact rows
/// are written in one transaction: a message that got code 0 is stored, with its contacts. The
/// transaction holds both people's rows and looks again at who may see whom
/// ([`account::hold_pair`]): a message never lands after a block between the two, a ban or
/// an erasure of either — it lands before it, or is refused (40401, 40105).
pub async fn send(
    caller: Res<Caller>,
    target: Res<Target>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let to = graph::someone_else(caller.user_id, target.0.user_id, "message")?;
    let now = clock::now();
    let mut row = message::ActiveModel {
        from_uid: Set(caller.user_id),
        to_uid: Set(to),
        send_time: Set(now),
        read: Set(false),
        ..Default::default()
    };
    let msg_type = params.required("msg_type")?;
    let preview = match msg_type {
        "text" => {
            let content = validate::text("content", params.required("content")?, 1, 500)?;
            let preview: String = content.chars().take(100).collect();
            row.content = Set(Some(content));
            preview
        }
        "audio" => {
            row.audio = Set(Some(validate::url("audio", params.required("audio")?)?));
            let duration: i32 = params.parse_required("duration")?;
            if !(1..=60).contains(&duration) {
                return Err(codes::malformed("duration", "from 1 to 60 seconds"));
            }
            row.duration = Set(Some(duration));
            "[audio]".to_owned()
        }
        "image" => {
            row.image = Set(Some(validate::url("image", params.required("image")?)?));
            "[image]".to_owned()
        }
        _ => return Err(codes::malformed("msg_type", "text, audio or image")),
    };
    row.msg_type = Set(msg_type.to_owned());

    let from = caller.user_id;
    // Counted once the message is known to be well formed: 30 a minute, 1,000 a day of
    // messages sent — one that is not stored gives its try back.
    let sender = from.to_string();
    limits::MESSAGES.take(&*state.store, &sender).await?;
    let turn = match Turn::take(&*state.store, from, to).await {
        Ok(turn) => turn,
        Err(e) => {
            limits::MESSAGES.give_back(&*state.store, &sender).await;
            return Err(e);
        }
    };
    let saved = db::in_transaction(&state.db, |txn| {
        let (row, preview) = (row.clone(), preview.clone());
        Box::pin(async move {
            // A block, a ban or an erasure may have committed since the loaders looked.
            account::hold_pair(txn, from, to).await?;
            let saved = row.insert(txn).await?;
            write_contacts(txn, from, to, &preview, now).await?;
            Ok(saved)
        })
    })
    .await;
    if let Ok(saved) = &saved {
        // Who may see a contacts-only person depends on who talked: unless this instance
        // already knows these two as contacts, every instance forgets whom they talked with
        // (once per conversation and instance, not once a message).
        if !state.people().have_talked(from, to) {
            account::changed(&state, Change::Contacted(from, to)).await;
        }
        // Delivered to the recipient and to the sender's other connections, on every instance.
        let pushed = realtime::event("message", message_json(saved));
        for user in [to, from] {
            state
                .hub
                .publish(Route::User(user), pushed.clone(), Some(from))
                .await;
        }
    }
    turn.end(&*state.store).await;
    if saved.is_err() {
        limits::MESSAGES.give_back(&*state.store, &sender).await;
    }
    Ok(ok(message_json(&saved?)))
}

/// A conversation's turn: one send at a time per pair of people, across instances. It spans
/// the transaction and the publish, so a conversation's messages are committed, numbered and
/// published in one order, and every connection receives them in `msg_id` order (a publish
/// after the commit alone would race the next send's).
struct Turn(Hold);

impl Turn {
    /// Longest a turn lasts: a holder that died mid-send (an instance killed) gives it up by
    /// itself, well before anyone waiting gives up. A send slower than this (a database in
    /// distress) lets the next one in: order is then the database's, nothing fails.
    const TTL: Duration = Duration::from_secs(2);
    /// Longest a send waits for its turn before answering 50301: past a dead holder's turn.
    const WAIT: Duration = Duration::from_secs(5);

    async fn take(store: &dyn Store, a: i64, b: i64) -> Result<Turn, AppError> {
        let key = format!("chat:turn:{}:{}", Ord::min(a, b), Ord::max(a, b));
        let deadline = tokio::time::Instant::now() + Self::WAIT;
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(hold) = Hold::take(store, key.as_str(), Self::TTL).await? {
                return Ok(Turn(hold));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(codes::unavailable("the conversation (busy)"));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(16));
        }
    }

    /// Ends the turn, if it is still this send's: one that outlived its TTL may have passed
    /// to the next send, whose turn is not ended here. A store that fails here leaves it to
    /// expire.
    async fn end(self, store: &dyn Store) {
        self.0.give_back_or_expire(store).await;
    }
}

/// Both contact rows of a message from `from` to `to`. The sender's side: last message and
/// time; the receiver's: the same, one more unread (an atomic increment). A new row's creator
/// is the sender; an existing row keeps its creator (the first sender).
///
/// The rows are written lower user id first, whoever sends: A→B and B→A then lock them in the
/// same order and cannot deadlock each other.
async fn write_contacts(
    txn: &DatabaseTransaction,
    from: i64,
    to: i64,
    preview: &str,
    now: i64,
) -> Result<(), AppError> {
    let mut sides = [(from, to, 0), (to, from, 1)];
    sides.sort_by_key(|&(user, _, _)| user);
    for (user, peer, unread) in sides {
        let contact = contacts::ActiveModel {
            user_id: Set(user),
            peer_id: Set(peer),
            creator_id: Set(from),
            last_msg: Set(preview.to_owned()),
            unread: Set(unread),
            update_time: Set(now),
            ..Default::default()
        };
        let mut on_conflict =
            OnConflict::columns([contacts::Column::UserId, contacts::Column::PeerId]);
        on_conflict.update_columns([contacts::Column::LastMsg, contacts::Column::UpdateTime]);
        if unread > 0 {
            on_conflict.value(
                contacts::Column::Unread,
                Expr::col((contacts::Entity, contacts::Column::Unread)).add(1),
            );
        }
        contacts::Entity::insert(contact)
            .on_conflict(on_conflict.to_owned())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// The conversation with the loaded user, newest first, `limit` at a time before `before_id` —
/// or, with `after_id`, oldest first after it (catching up after a reconnect); incoming
/// messages fetched are marked read, and the peer is told (`read`).
pub async fn history(
    caller: Res<Caller>,
    target: Res<Target>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let (me, peer) = (caller.user_id, target.0.user_id);
    let limit = params.parse_optional::<u64>("limit")?.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(codes::malformed("limit", "from 1 to 100"));
    }
    let before = params.parse_optional::<i64>("before_id")?;
    let after = params.parse_optional::<i64>("after_id")?;
    if before.is_some() && after.is_some() {
        return Err(codes::malformed(
            "after_id",
            "give before_id or after_id, not both",
        ));
    }
    let conversation = Condition::any()
        .add(
            Condition::all()
                .add(message::Column::FromUid.eq(me))
                .add(message::Column::ToUid.eq(peer)),
        )
        .add(
            Condition::all()
                .add(message::Column::FromUid.eq(peer))
                .add(message::Column::ToUid.eq(me)),
        );
    let mut query = message::Entity::find().filter(conversation);
    if let Some(before) = before {
        query = query.filter(message::Column::Id.lt(before));
    }
    let query = match after {
        Some(after) => query
            .filter(message::Column::Id.gt(after))
            .order_by_asc(message::Column::Id),
        None => query.order_by_desc(message::Column::Id),
    };
    let mut rows = query.limit(limit + 1).all(&state.db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next = more.then(|| rows.last().map(|m| m.id)).flatten();

    let incoming: Vec<i64> = rows
        .iter()
        .filter(|m| m.to_uid == me && !m.read)
        .map(|m| m.id)
        .collect();
    if !incoming.is_empty() {
        // The count goes down by what this call marked read — an atomic decrement, so a message
        // arriving meanwhile (an atomic increment) is never erased by a count read earlier.
        db::in_transaction(&state.db, |txn| {
            let incoming = incoming.clone();
            Box::pin(async move {
                let marked = message::Entity::update_many()
                    .col_expr(message::Column::Read, Expr::value(true))
                    .filter(message::Column::Id.is_in(incoming))
                    .filter(message::Column::Read.eq(false))
                    .exec(txn)
                    .await?
                    .rows_affected as i32;
                let unread = Expr::col(contacts::Column::Unread);
                let decremented =
                    Expr::case(unread.clone().gt(marked), unread.sub(marked)).finally(0);
                contacts::Entity::update_many()
                    .col_expr(contacts::Column::Unread, decremented.into())
                    .filter(contacts::Column::UserId.eq(me))
                    .filter(contacts::Column::PeerId.eq(peer))
                    .exec(txn)
                    .await?;
                Ok(())
            })
        })
        .await?;
        for m in rows.iter_mut().filter(|m| m.to_uid == me) {
            m.read = true;
        }
        if let Some(&up_to) = incoming.iter().max() {
            let read = realtime::event("read", json!({ "peer_id": me, "up_to_msg_id": up_to }));
            state.hub.publish(Route::User(peer), read, Some(me)).await;
        }
    }
    let list = Value::Array(rows.iter().map(message_json).collect());
    let cursor = match after {
        Some(_) => "next_after_id",
        None => "next_before_id",
    };
    Ok(ok(object([("list", list), (cursor, json!(next))])))
}

/// A message's schema, for `/openapi.json`.
pub fn message_schema() -> Value {
    use crate::openapi::*;
    shape([
        ("msg_id", integer()),
        ("from_uid", integer()),
        ("to_uid", integer()),
        ("msg_type", json!({"enum": ["text", "audio", "image"]})),
        ("content", nullable(string())),
        ("audio", nullable(string())),
        ("duration", nullable(integer())),
        ("image", nullable(string())),
        ("send_time", time()),
        ("read", json!({"type": "boolean"})),
    ])
}

/// What send reads and answers, for `/openapi.json`.
pub fn send_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(message_schema())
        .param(required(
            "msg_type",
            json!({"enum": ["text", "audio", "image"]}),
        ))
        .param(optional("content", text(1, 500)).describe("with msg_type text"))
        .param(optional("audio", url()).describe("with msg_type audio"))
        .param(optional("duration", int(1, 60)).describe("seconds, with msg_type audio"))
        .param(optional("image", url()).describe("with msg_type image"))
        .refuses(
            429,
            42901,
            "30 messages a minute, 1,000 a day (Retry-After)",
        )
}

/// What history reads and answers, for `/openapi.json`.
pub fn history_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    let cursor = || nullable(integer());
    // One cursor or the other: `next_before_id` paging back, `next_after_id` catching up.
    let page = |cursor_name: &str| {
        shape([
            ("list", json!({"type": "array", "items": message_schema()})),
            (cursor_name, cursor()),
        ])
    };
    answers(json!({"oneOf": [page("next_before_id"), page("next_after_id")]}))
        .param(optional("before_id", json!({"type": "integer"})))
        .param(optional("after_id", json!({"type": "integer"})))
        .param(optional(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    /// A send that outlived its turn (the key expired, the next send took it) does not end
    /// the next send's turn when it finishes: a third send still waits for the second.
    #[tokio::test]
    async fn a_late_send_does_not_end_the_next_ones_turn() {
        let store = MemoryStore::new();
        let slow = Turn::take(&store, 1, 2).await.unwrap();
        // As if its TTL ran out: the key is gone, and the next send takes the turn.
        store.del(slow.0.key()).await.unwrap();
        let next = Turn::take(&store, 2, 1).await.unwrap();
        slow.end(&store).await;
        assert!(
            store.get(next.0.key()).await.unwrap().is_some(),
            "the next send still holds its turn"
        );
        assert!(
            !store
                .set_nx(next.0.key(), "third", Turn::TTL)
                .await
                .unwrap()
        );
        let key = next.0.key().to_owned();
        next.end(&store).await;
        assert_eq!(store.get(&key).await.unwrap(), None);
    }
}
