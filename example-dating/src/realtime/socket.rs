//! `GET /api/ws` (WebSocket) and `GET /api/events` (Server-Sent Events): the same events, two
//! transports. Both routes sit under `/api`'s signature and token guards, so an unsigned,
//! replayed or token-less upgrade is refused with the JSON envelope before any 101.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use kotori::sse::{Event, Sse};
use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
use kotori::{Res, Response, State};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::budget::{SUBSCRIBE_BURST, SUBSCRIBES_PER_SECOND, SubscribeBudget};
use super::hub::{Connection, Out, Registered, event};
use crate::auth::{Caller, ClientAddress};
use crate::codes::{self, AppError};
use crate::db::entity::rooms::live;
use crate::params::Params;
use crate::people::{graph, sessions};
use crate::state::AppState;

/// The largest client frame: 4 KiB (a larger one closes the socket with 1009).
pub const MAX_FRAME: usize = 4 * 1024;
/// The server pings (an SSE comment) this often.
pub const PING_EVERY: Duration = Duration::from_secs(30);
/// A WebSocket silent this long (no frame, no pong) is closed.
pub const IDLE_LIMIT: Duration = Duration::from_secs(75);
/// How long a closing socket may take to send its `bye` and close frame (a client that does
/// not read gets its connection dropped instead).
const BYE_WITHIN: Duration = Duration::from_secs(1);
/// A socket's read buffer: every open socket holds one, and clients send little (a larger
/// frame, up to [`MAX_FRAME`], is read in several steps).
const READ_BUFFER: usize = 1024;

/// `GET /api/ws`: upgrades, then sends events and takes `subscribe`, `unsubscribe` and `ping`.
pub async fn ws(
    upgrade: WebSocketUpgrade,
    caller: Res<Caller>,
    address: ClientAddress,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let open = open_connection(&state, &caller, address).await?;
    let token = caller.token.clone();
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| async move {
            serve_socket(&state, open, &token, socket).await;
        }))
}

/// Registers the caller's connection with the hub, then checks the session once more, before
/// any 101 or stream: a revocation (logout, ban, deletion) that came before the registration
/// is seen by this check, one that comes after is announced to the registered connection —
/// there is no moment in between. The blocks are read after the registration for the same
/// reason. Dropped before it is served (the upgrade failed, the client left), it unregisters.
async fn open_connection(
    state: &AppState,
    caller: &Caller,
    address: ClientAddress,
) -> Result<Registered, AppError> {
    let address = address.known_key();
    let open = state.hub.join(caller.user_id, address).await;
    if sessions::lookup(state, &caller.token, None).await? != Some(caller.user_id) {
        return Err(codes::bad_token());
    }
    let hidden = graph::hidden_from(&state.db, caller.user_id).await?;
    state.hub.hide(open.conn.id, hidden);
    Ok(open)
}

/// Whether `token` still works for its user: checked at every heartbeat, so a session that
/// expires (or one revoked while the announcement was lost) ends its sockets too.
async fn still_valid(state: &AppState, token: &str) -> bool {
    // A store or database that does not answer is not a revocation: the socket stays.
    !matches!(sessions::lookup(state, token, None).await, Ok(None))
}

/// Sends `text` unless the connection is told to close first: a client that does not read
/// must not delay its ban. `false`: the socket is done.
async fn send(socket: &mut WebSocket, conn: &mut Connection, text: String) -> bool {
    tokio::select! {
        sent = socket.send(Message::text(text)) => sent.is_ok(),
        _ = conn.closing.changed() => false,
    }
}

async fn serve_socket(state: &AppState, mut open: Registered, token: &str, mut socket: WebSocket) {
    let conn = &mut open.conn;
    let mut heartbeat = tokio::time::interval(PING_EVERY);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    let mut budget = SubscribeBudget::new(last_heard);
    // A close asked for before the 101 (a revocation racing the upgrade) is seen at once.
    let told_already = conn.closing.borrow_and_update().is_some();
    if !told_already {
        loop {
            tokio::select! {
                incoming = socket.recv() => {
                    let Some(Ok(message)) = incoming else { return };
                    last_heard = Instant::now();
                    let reply = match message {
                        // Boxed, as is the session check below: their database futures are
                        // large, and an idle socket's task should not carry them.
                        Message::Text(text) => {
                            let frame = client_frame(state, conn.id, &mut budget, text.as_str());
                            Box::pin(frame).await
                        }
                        Message::Binary(_) => Some(refusal(40002, "frames are JSON text")),
                        _ => None,
                    };
                    if let Some(reply) = reply {
                        if !send(&mut socket, conn, reply.to_string()).await {
                            break;
                        }
                    }
                }
                out = conn.events.recv() => {
                    let Some(Out::Event(text)) = out else { return };
                    if !send(&mut socket, conn, text.to_string()).await {
                        break;
                    }
                    for lag in take_lag(conn) {
                        if !send(&mut socket, conn, lag.to_string()).await {
                            break;
                        }
                    }
                }
                changed = conn.closing.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if conn.closing.borrow().is_some() {
                        break;
                    }
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > IDLE_LIMIT {
                        // Every close the server decides is told with a `bye` first.
                        state.hub.close(conn.id, 1000, "idle");
                        continue;
                    }
                    if !Box::pin(still_valid(state, token)).await {
                        state.hub.close(conn.id, 1000, "logout");
                        continue;
                    }
                    let ping = socket.send(Message::Ping(Vec::new().into()));
                    if !tokio::select! {
                        sent = ping => sent.is_ok(),
                        _ = conn.closing.changed() => true,
                    } {
                        return;
                    }
                }
            }
        }
    }
    // Told to close: `bye`, then the close frame — within a bound, as the client may be the
    // reason (it stopped reading).
    let ending = conn.closing.borrow().clone();
    if let Some((code, reason)) = ending {
        let bye = event("bye", json!({ "reason": reason }));
        let _ = tokio::time::timeout(BYE_WITHIN, async {
            socket.send(Message::text(bye.to_string())).await?;
            socket.close(code, &reason).await
        })
        .await;
    }
}

/// The `lag` events owed to a connection that dropped danmaku.
fn take_lag(conn: &Connection) -> Vec<Value> {
    let mut lagged = conn.lagged.lock().unwrap_or_else(|p| p.into_inner());
    let owed: HashMap<i64, u64> = std::mem::take(&mut *lagged);
    owed.into_iter()
        .map(|(live_id, dropped)| event("lag", json!({ "live_id": live_id, "dropped": dropped })))
        .collect()
}

/// What a `subscribe` past the client's budget is told (42901; nothing is read for it).
fn over_budget() -> Value {
    refusal(
        42901,
        &format!(
            "too many subscribes: at most {SUBSCRIBE_BURST} at once, then {SUBSCRIBES_PER_SECOND} a second"
        ),
    )
}

fn refusal(code: u32, msg: &str) -> Value {
    event("error", json!({ "code": code, "msg": msg }))
}

/// Whether a live is on the air.
async fn on_air(state: &AppState, live_id: i64) -> Result<bool, AppError> {
    let found = live::Entity::find_by_id(live_id).one(&state.db).await?;
    Ok(found.as_ref().is_some_and(crate::live::on_air))
}

/// A client frame: `{"type": "subscribe" | "unsubscribe", "live_id": N}` or `{"type": "ping"}`.
/// The answer, if any: `pong`, or an `error` (the connection stays open).
async fn client_frame(
    state: &AppState,
    id: u64,
    budget: &mut SubscribeBudget,
    text: &str,
) -> Option<Value> {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return Some(refusal(40002, "a frame is a JSON object: this is not JSON"));
    };
    // Absent is 40001 where a live is needed; present but not an id (`"7"`, `7.5`) is 40002.
    let live_id = match &frame["live_id"] {
        Value::Null => None,
        given => match given.as_i64() {
            Some(live_id) => Some(live_id),
            None if frame["type"] == "ping" => None,
            None => return Some(refusal(40002, "live_id is a live's id: an integer")),
        },
    };
    match (frame["type"].as_str(), live_id) {
        (Some("ping"), _) => Some(event("pong", json!({}))),
        // A subscribe reads the database: it takes from the budget (a ping or an unsubscribe
        // costs what its bytes do).
        (Some("subscribe"), Some(_)) if !budget.take(Instant::now()) => Some(over_budget()),
        (Some("subscribe"), Some(live_id)) => match on_air(state, live_id).await {
            Ok(true) => {
                state.hub.subscribe(id, live_id);
                None
            }
            Ok(false) => Some(refusal(40401, "no such live on the air")),
            Err(_) => Some(refusal(50301, "database unavailable")),
        },
        (Some("unsubscribe"), Some(live_id)) => {
            state.hub.unsubscribe(id, live_id);
            None
        }
        (Some("subscribe" | "unsubscribe"), None) => Some(refusal(40001, "missing live_id")),
        _ => Some(refusal(40002, "unknown frame type")),
    }
}

/// `GET /api/events` (optional `live_id`, which must be on the air): the events as
/// Server-Sent Events, `event:` the type and `data:` the JSON data.
pub async fn events(
    caller: Res<Caller>,
    params: Res<Params>,
    address: ClientAddress,
    State(state): State<AppState>,
) -> Result<Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>>, AppError> {
    let live_id = params.parse_optional::<i64>("live_id")?;
    if let Some(live_id) = live_id {
        if !on_air(&state, live_id).await? {
            return Err(codes::not_found());
        }
    }
    let registered = open_connection(&state, &caller, address).await?;
    if let Some(live_id) = live_id {
        state.hub.subscribe(registered.conn.id, live_id);
    }
    let mut check = tokio::time::interval(PING_EVERY);
    check.reset();
    let token = caller.token.clone();
    // `ended`: the `bye` was sent, the stream ends after it.
    let watch = (registered, check, state, token, false);
    let stream = futures_util::stream::unfold(
        watch,
        |(mut r, mut check, state, token, mut ended)| async move {
            if ended {
                return None;
            }
            let next = tokio::select! {
                // The session is checked again as often as a WebSocket's (an expiry ends it too).
                _ = check.tick() => {
                    if !Box::pin(still_valid(&state, &token)).await {
                        state.hub.close(r.conn.id, 1000, "logout");
                    }
                    Vec::new()
                }
                out = r.conn.events.recv() => match out {
                    Some(Out::Event(text)) => {
                        let mut batch = vec![serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)];
                        batch.extend(take_lag(&r.conn));
                        batch
                    }
                    None => return None,
                },
                changed = r.conn.closing.changed() => {
                    let ending = r.conn.closing.borrow().clone();
                    match (changed, ending) {
                        (Ok(()), Some((_, reason))) => {
                            ended = true;
                            vec![event("bye", json!({ "reason": reason }))]
                        }
                        _ => return None,
                    }
                }
            };
            let events: Vec<Result<Event, Infallible>> =
                next.iter().map(|e| Ok(sse_event(e))).collect();
            Some((
                futures_util::stream::iter(events),
                (r, check, state, token, ended),
            ))
        },
    );
    use futures_util::StreamExt;
    Ok(Sse::new(stream.flatten()).keep_alive(PING_EVERY))
}

fn sse_event(e: &Value) -> Event {
    Event::default()
        .event(e["type"].as_str().unwrap_or("message"))
        .data(e["data"].to_string())
}

/// What ws reads and answers, for `/openapi.json`.
pub fn ws_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .success_as(101, "", json!({}))
        .refuses(400, 40001, "not a WebSocket handshake")
        .refuses(426, 42601, "a WebSocket upgrade is required")
}

/// What events reads and answers, for `/openapi.json`.
pub fn events_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(optional(
            "live_id",
            json!({"type": "integer", "minimum": 1}),
        ))
        .success_as(200, "text/event-stream", json!({"type": "string"}))
        .refuses(404, 40401, "the live is not on the air")
}
