//! The lives: a list (every live for admins, their own for hosts), a live's page with its
//! danmaku and moderation forms, and the page's feed — the live's danmaku as they arrive,
//! over Server-Sent Events (the console's one use of JavaScript).

use std::convert::Infallible;
use std::time::Duration;

use http::Method;
use kotori::sse::{Event, Sse};
use kotori::{Ctx, Res, Response, State};
use serde_json::Value;

use crate::auth::ClientAddress;
use crate::codes::AppError;
use crate::envelope::data_of;
use crate::live::actions::{self as live_actions, LiveActions};
use crate::live::{LiveRoom, danmaku, rooms};
use crate::manage::Operator;
use crate::manage::page::Page;
use crate::manage::session::{self, Session};
use crate::params::Params;
use crate::realtime::hub::Out;
use crate::state::AppState;

/// How often the feed sends a comment to keep proxies from closing it.
const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// Mounts a live's page and feed on the read group of the live actions (so they need what
/// reading a live needs: `live:read` for admins, ownership for hosts).
pub fn mount(actions: &LiveActions) {
    actions.read.get("", show);
    actions.read.get("/feed", feed);
}

/// `GET …/live` under admin: every live (`status`: on_air or finished; `page`).
#[kotori::handler]
pub async fn all(
    cx: &mut Ctx<AppState>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let found = data_of(rooms::list_all(params.clone(), State(state)).await?);
    list_page(cx, &params, found, "Lives").await
}

/// `GET …/live` under shops: the host's own lives, and the form that starts one.
#[kotori::handler]
pub async fn own(
    cx: &mut Ctx<AppState>,
    op: Res<Operator>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let found = data_of(rooms::list_own(op, params.clone(), State(state)).await?);
    list_page(cx, &params, found, "My lives").await
}

async fn list_page(
    cx: &mut Ctx<AppState>,
    params: &Params,
    found: Value,
    title: &str,
) -> Result<Response, AppError> {
    let base = cx.path().to_owned();
    let may_create = Page::may(cx, Method::POST, &format!("{base}/create")).await;
    Ok(Page::listing("lives.html", title, found, params)
        .with("base", base)
        .with("may_create", may_create)
        .render(cx)
        .await)
}

/// `GET …/live/{live_id}`: the live, its muted viewers, its latest danmaku; the forms the
/// operator may use (finish, mute, unmute, slow mode, delete a danmaku), each asked of the
/// tree. New danmaku arrive through [`feed`] without a reload.
#[kotori::handler]
pub async fn show(
    cx: &mut Ctx<AppState>,
    room: Res<LiveRoom>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let live = data_of(live_actions::show(room.clone(), State(state.clone())).await?);
    let muted = data_of(live_actions::muted(room.clone(), State(state.clone())).await?);
    let shown = data_of(danmaku::list_all(room.clone(), params, State(state)).await?);
    let here = cx.path().to_owned();
    let mut may = serde_json::Map::new();
    for action in [
        "finish",
        "forbid_send_msg",
        "unforbid_send_msg",
        "slow_mode",
    ] {
        let allowed = Page::may(cx, Method::POST, &format!("{here}/{action}")).await;
        may.insert(action.into(), allowed.into());
    }
    // One question for every danmaku: the guards are the same for each of this live's.
    let first = shown["list"].get(0).and_then(|d| d["danmaku_id"].as_i64());
    let may_delete = match first {
        Some(id) => Page::may(cx, Method::POST, &format!("{here}/danmaku/{id}/delete")).await,
        None => may.get("finish").and_then(Value::as_bool).unwrap_or(false),
    };
    may.insert("delete".into(), may_delete.into());
    Ok(Page::new("live.html", format!("Live {}", room.0.id))
        .with("live", live)
        .with("muted", muted["list"].clone())
        .with("danmaku", shown)
        .with("here", here)
        .with("may", Value::Object(may))
        .render(cx)
        .await)
}

/// `GET …/live/{live_id}/feed`: the live's `danmaku`, `danmaku_deleted` and `live_finished`
/// events as SSE, through the same hub as the users' connections (every instance's danmaku).
/// An operator's feeds count as one hub user of their own (a negative id: never a user's), so
/// a sixth open tab closes the oldest like a sixth user connection.
pub async fn feed(
    room: Res<LiveRoom>,
    op: Res<Operator>,
    session: Res<Session>,
    address: ClientAddress,
    State(state): State<AppState>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    let address = address.known_key();
    let registered = state.hub.join(op.hub_user(), address).await;
    state.hub.subscribe(registered.conn.id, room.0.id);
    // Registered first, then the session checked once more: a logout between the loader and
    // the registration announced its end before this feed could hear it.
    let live = session::unchanged(&state, &session.token, &op).await;
    let mut check = tokio::time::interval(KEEP_ALIVE);
    check.reset();
    let watch = live.then_some((registered, check, state, session, op));
    let stream = futures_util::stream::unfold(watch, |watch| async move {
        let (mut r, mut check, state, session, op) = watch?;
        loop {
            tokio::select! {
                // The session is checked again now and then: one that expired or ended, or
                // whose operator's privileges changed, ends the feed (opened again, the tree
                // decides whether the operator may still see it).
                _ = check.tick() => {
                    if !session::unchanged(&state, &session.token, &op).await {
                        return None;
                    }
                }
                out = r.conn.events.recv() => {
                    let Out::Event(text) = out?;
                    let event: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let kind = event["type"].as_str().unwrap_or("").to_owned();
                    if !matches!(kind.as_str(), "danmaku" | "danmaku_deleted" | "live_finished") {
                        continue;
                    }
                    let sent = Event::default().event(kind.clone()).data(event["data"].to_string());
                    // After the live ends, nothing more will come: end the stream.
                    let next =
                        (kind != "live_finished").then_some((r, check, state, session, op));
                    return Some((Ok(sent), next));
                }
                _ = r.conn.closing.changed() => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KEEP_ALIVE)
}
