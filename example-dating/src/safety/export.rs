//! `GET /api/me/export`: everything held about the caller, complete and unpaged — streamed.
//!
//! The small sections (profile, labels, album, location, blocks, reports, mutes) are read
//! first; the ones that grow with a person's history or at a client's wish (visits both ways,
//! messages both ways, contacts, danmaku, orders) are read and written a page at a time, by
//! id, so an export of
//! 200,000 messages holds one page in memory, not the document. A failure before the first
//! byte answers in the envelope (and does not spend the hour); a failure mid-stream cuts the
//! connection, so a client never mistakes a partial export for a whole one.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, Stream};
use http::header::{CONTENT_TYPE, HeaderValue};
use kotori::{Body, Res, Response, State};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde_json::{Map, Value, json};

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
use crate::people::profile::Whole;
use crate::people::{graph, visibility};
use crate::state::AppState;
use crate::store::Hold;
use crate::users::profile::Me;
use crate::users::showcase;

/// How often a user may export: once an hour.
pub const EXPORT_EVERY: Duration = Duration::from_secs(3600);

/// Rows read (and written out) at a time in a growing section.
const PAGE: u64 = 500;

/// Everything held about the caller, streamed in the envelope; once an hour (42901 with
/// `Retry-After` otherwise).
pub async fn export_me(
    me: Res<Me>,
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let key = format!("export:{}", caller.user_id);
    let Some(hour) = Hold::take(&*state.store, key.as_str(), EXPORT_EVERY).await? else {
        let left = state.store.ttl(&key).await?.unwrap_or(EXPORT_EVERY);
        return Err(codes::rate_limited(left.as_secs()));
    };
    let head = match head(&state.db, &me.user).await {
        Ok(head) => head,
        Err(e) => {
            // A failed export does not spend the hour's.
            hour.give_back_or_expire(&*state.store).await;
            return Err(e);
        }
    };
    let mut res = Response::new(Body::from_stream(document(
        state.db.clone(),
        caller.user_id,
        head,
    )));
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(res)
}

/// The sections that grow with a person's history, in the order they are written.
#[derive(Clone, Copy)]
enum Section {
    VisitsMade,
    VisitsReceived,
    MessagesSent,
    MessagesReceived,
    Contacts,
    DanmakuSent,
    Orders,
}

const SECTIONS: [Section; 7] = [
    Section::VisitsMade,
    Section::VisitsReceived,
    Section::MessagesSent,
    Section::MessagesReceived,
    Section::Contacts,
    Section::DanmakuSent,
    // Orders too: creating one costs nothing, so their number is the client's to choose.
    Section::Orders,
];

impl Section {
    fn name(self) -> &'static str {
        match self {
            Section::VisitsMade => "visits_made",
            Section::VisitsReceived => "visits_received",
            Section::MessagesSent => "messages_sent",
            Section::MessagesReceived => "messages_received",
            Section::Contacts => "contacts",
            Section::DanmakuSent => "danmaku_sent",
            Section::Orders => "orders",
        }
    }

    /// The rows of this section after id `after`, a page of them, as JSON; and the last id.
    async fn page(
        self,
        db: &DatabaseConnection,
        id: i64,
        after: i64,
    ) -> Result<(Vec<Value>, Option<i64>), AppError> {
        Ok(match self {
            Section::VisitsMade | Section::VisitsReceived => {
                let (mine, other) = match self {
                    Section::VisitsMade => (visitor::Column::ViewerId, visitor::Column::ViewedId),
                    _ => (visitor::Column::ViewedId, visitor::Column::ViewerId),
                };
                let owned = visitor::Entity::find().filter(mine.eq(id));
                let rows = rows_after(db, owned, visitor::Column::Id, after).await?;
                let who = |v: &visitor::Model| match other {
                    visitor::Column::ViewedId => v.viewed_id,
                    _ => v.viewer_id,
                };
                // A visit names the other person only where the owner may see them now; the
                // others are listed (the owner's data is complete) without who it was.
                let seen =
                    visibility::shown_to::<crate::people::Card>(db, id, rows.iter().map(who))
                        .await?;
                let last = rows.last().map(|v| v.id);
                let items = rows
                    .iter()
                    .map(|v| {
                        let other = Some(who(v)).filter(|o| seen.contains_key(o));
                        json!({ "user_id": other, "visit_time": clock::format(v.visit_time) })
                    })
                    .collect();
                (items, last)
            }
            Section::MessagesSent | Section::MessagesReceived => {
                let mine = match self {
                    Section::MessagesSent => message::Column::FromUid,
                    _ => message::Column::ToUid,
                };
                let owned = message::Entity::find().filter(mine.eq(id));
                let rows = rows_after(db, owned, message::Column::Id, after).await?;
                let last = rows.last().map(|m| m.id);
                // The other side is named unless a block stands between them now, as the
                // contacts list leaves them out: the message itself is the owner's data.
                let sent = matches!(self, Section::MessagesSent);
                let other = |m: &message::Model| if sent { m.to_uid } else { m.from_uid };
                let field = if sent { "to_uid" } else { "from_uid" };
                let blocked = graph::blocked_among(db, id, rows.iter().map(other)).await?;
                let items = rows
                    .iter()
                    .map(|m| {
                        let mut item = message_json(m);
                        if blocked.contains(&other(m)) {
                            item[field] = Value::Null;
                        }
                        item
                    })
                    .collect();
                (items, last)
            }
            Section::Contacts => {
                let owned = contacts::Entity::find().filter(contacts::Column::UserId.eq(id));
                let rows = rows_after(db, owned, contacts::Column::Id, after).await?;
                let last = rows.last().map(|c| c.id);
                let blocked = graph::blocked_among(db, id, rows.iter().map(|c| c.peer_id)).await?;
                let items = rows
                    .iter()
                    .map(|c| {
                        let peer = Some(c.peer_id).filter(|p| !blocked.contains(p));
                        json!({
                            "peer_id": peer,
                            "last_msg": c.last_msg,
                            "unread": c.unread,
                            "update_time": clock::format(c.update_time),
                        })
                    })
                    .collect();
                (items, last)
            }
            Section::Orders => {
                let owned = user_order::Entity::find().filter(user_order::Column::UserId.eq(id));
                let rows = rows_after(db, owned, user_order::Column::Id, after).await?;
                let last = rows.last().map(|o| o.id);
                (rows.iter().map(order_json).collect(), last)
            }
            Section::DanmakuSent => {
                let owned = danmaku::Entity::find().filter(danmaku::Column::UserId.eq(id));
                let rows = rows_after(db, owned, danmaku::Column::Id, after).await?;
                let last = rows.last().map(|d| d.id);
                let items = rows
                    .iter()
                    .map(|d| {
                        json!({
                            "danmaku_id": d.id,
                            "live_id": d.live_id,
                            "content": d.content,
                            "send_time": clock::format(d.send_time),
                        })
                    })
                    .collect();
                (items, last)
            }
        })
    }
}

/// A page of `owned` (one section's rows of one person): the rows after id `after`, by id.
async fn rows_after<E: EntityTrait>(
    db: &DatabaseConnection,
    owned: Select<E>,
    id: E::Column,
    after: i64,
) -> Result<Vec<E::Model>, AppError> {
    Ok(owned
        .filter(id.gt(after))
        .order_by_asc(id)
        .limit(PAGE)
        .all(db)
        .await?)
}

/// Where the stream is.
enum Step {
    /// The envelope's opening and the small sections.
    Head(Map<String, Value>),
    /// Section `SECTIONS[at]`, rows after `after`; `first` until its first row is written.
    Rows {
        at: usize,
        after: i64,
        first: bool,
    },
    /// The closing brackets.
    Tail,
    Done,
}

/// The envelope around the export, written as it is read.
fn document(
    db: DatabaseConnection,
    id: i64,
    head: Map<String, Value>,
) -> impl Stream<Item = Result<Bytes, AppError>> + Send + 'static {
    stream::try_unfold(Step::Head(head), move |step| {
        let db = db.clone();
        async move {
            Ok(match step {
                Step::Head(head) => {
                    // `{"code":0,"msg":"success","data":{…small sections…,` then the big ones.
                    let small = Value::Object(head).to_string();
                    let mut out = String::from(r#"{"code":0,"msg":"success","data":"#);
                    out.push_str(&small[..small.len() - 1]);
                    let comma = if small.len() > 2 { "," } else { "" };
                    out.push_str(comma);
                    Some((
                        Bytes::from(out),
                        Step::Rows {
                            at: 0,
                            after: 0,
                            first: true,
                        },
                    ))
                }
                Step::Rows { at, after, first } => {
                    let section = SECTIONS[at];
                    let (items, last) = section.page(&db, id, after).await?;
                    let mut out = String::new();
                    if first {
                        if at > 0 {
                            out.push(',');
                        }
                        out.push_str(&format!("\"{}\":[", section.name()));
                    }
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 || (!first && !items.is_empty()) {
                            out.push(',');
                        }
                        out.push_str(&item.to_string());
                    }
                    let next = match last {
                        // A full page: there may be more.
                        Some(last) if items.len() as u64 == PAGE => Step::Rows {
                            at,
                            after: last,
                            first: false,
                        },
                        _ => {
                            out.push(']');
                            if at + 1 < SECTIONS.len() {
                                Step::Rows {
                                    at: at + 1,
                                    after: 0,
                                    first: true,
                                }
                            } else {
                                Step::Tail
                            }
                        }
                    };
                    Some((Bytes::from(out), next))
                }
                Step::Tail => Some((Bytes::from_static(b"}}"), Step::Done)),
                Step::Done => None,
            })
        }
    })
}

/// The sections that stay small (a profile, at most nine photos, ten labels, at most 1,000
/// blocks, rate-limited reports), read before the first byte is sent.
async fn head(
    db: &DatabaseConnection,
    user: &user_info::Model,
) -> Result<Map<String, Value>, AppError> {
    let id = user.user_id;
    let vip = vip_info::Entity::find_by_id(id).one(db).await?;
    // What anyone sees, and what only the owner does.
    let mut profile = Whole::json_of(user);
    profile["vip_deadline"] = json!(vip.map(|v| clock::format(v.deadline)));
    let location = location::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|l| json!({ "lat": l.lat, "lng": l.lng, "updated_at": clock::format(l.updated_at) }));
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
    let mutes = live_mute::Entity::find()
        .filter(live_mute::Column::UserId.eq(id))
        .all(db)
        .await?;
    let showcase = showcase::of(db, id).await?;
    let head = json!({
        "profile": profile,
        "labels": showcase.labels,
        "album": showcase.album,
        "location": location,
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
        "mutes": mutes.iter().map(|m| json!({
            "live_id": m.live_id,
            "until": m.until.map(clock::format),
        })).collect::<Vec<_>>(),
    });
    match head {
        Value::Object(map) => Ok(map),
        _ => unreachable!("a JSON object literal"),
    }
}

/// What export_me reads and answers, for `/openapi.json`.
pub fn export_me_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    use crate::users::showcase::{label_schema, photo_schema};
    let list = |item: Value| json!({"type": "array", "items": item});
    let visit = shape([
        (
            "user_id",
            json!({"anyOf": [integer(), {"type": "null"}],
                   "description": "null where the owner may not see who it was"}),
        ),
        ("visit_time", time()),
    ]);
    let message = crate::chat::messages::message_schema();
    answers(shape([
        (
            "profile",
            extended(Whole::schema(), [("vip_deadline", nullable(time()))]),
        ),
        ("labels", list(label_schema())),
        ("album", list(photo_schema())),
        (
            "location",
            nullable(shape([
                ("lat", json!({"type": "number"})),
                ("lng", json!({"type": "number"})),
                ("updated_at", time()),
            ])),
        ),
        (
            "blocks",
            list(shape([("user_id", integer()), ("created_at", time())])),
        ),
        (
            "reports_made",
            list(shape([
                ("report_id", integer()),
                ("user_id", integer()),
                ("reason", string()),
                ("detail", string()),
                ("msg_id", nullable(integer())),
                ("status", json!({"enum": ["open", "resolved"]})),
                ("created_at", time()),
            ])),
        ),
        (
            "mutes",
            list(shape([("live_id", integer()), ("until", nullable(time()))])),
        ),
        ("visits_made", list(visit.clone())),
        ("visits_received", list(visit)),
        ("messages_sent", list(message.clone())),
        ("messages_received", list(message)),
        (
            "contacts",
            list(shape([
                ("peer_id", integer()),
                ("last_msg", nullable(string())),
                ("unread", integer()),
                ("update_time", time()),
            ])),
        ),
        (
            "danmaku_sent",
            list(shape([
                ("danmaku_id", integer()),
                ("live_id", integer()),
                ("content", string()),
                ("send_time", time()),
            ])),
        ),
        ("orders", list(crate::commerce::orders::order_schema())),
    ]))
    .refuses(429, 42901, "one export per hour")
}
