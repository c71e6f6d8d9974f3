//! docs/src/dating/api/realtime.md over real sockets, on one instance: the guards refuse an upgrade before any 101,
//! events reach WebSocket and Server-Sent Events clients, client frames are answered, `bye` ends
//! a session's connections, a slow reader never holds the others back.

mod common;
mod sockets;

use common::{TestApp, code, data};
use futures_util::{SinkExt, StreamExt};
use http::Method;
use serde_json::{Value, json};
use sockets::{BOUND, next_event, open, refused, serve, signed};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn the_guards_refuse_an_upgrade_before_any_101() {
    let t = TestApp::new().await;
    let addr = serve(&t).await;
    let (token, _) = t.user("18900000061").await;
    assert_eq!(refused(open(addr, "/api/ws").await), 40101, "unsigned");
    assert_eq!(
        refused(open(addr, &signed(&t, "/api/ws", &[], None)).await),
        40105,
        "no token"
    );
    let path = signed(&t, "/api/ws", &[], Some(&token));
    let socket = open(addr, &path).await.unwrap();
    drop(socket);
    assert_eq!(refused(open(addr, &path).await), 40103, "replayed");
    t.app
        .audit()
        .under("/api/ws")
        .require("load_caller")
        .unwrap();
    t.app
        .audit()
        .under("/api/events")
        .require("verify_client_signature")
        .unwrap();
}

#[tokio::test]
async fn messages_danmaku_and_frames_over_a_websocket() {
    let t = TestApp::new().await;
    let addr = serve(&t).await;
    let (alice, alice_id) = t.user("18900000061").await;
    let (bob, bob_id) = t.user("18900000062").await;
    let mut socket = open(addr, &signed(&t, "/api/ws", &[], Some(&alice)))
        .await
        .unwrap();

    let sent = t.message(&bob, alice_id, "hi").await;
    let msg_id = data(&sent)["msg_id"].clone();
    let event = next_event(&mut socket).await;
    assert_eq!(
        (event["type"].as_str(), &event["data"]["msg_id"]),
        (Some("message"), &msg_id)
    );

    // Bob reads his history after Alice answers: Alice hears that it was read.
    t.message(&alice, bob_id, "yo").await;
    let own = next_event(&mut socket).await;
    assert_eq!(
        own["type"], "message",
        "her own message, for her other devices"
    );
    let history = t
        .call(
            Method::GET,
            &format!("/api/users/{alice_id}/messages"),
            &[],
            Some(&bob),
        )
        .await;
    assert_eq!(code(&history), 0);
    let read = next_event(&mut socket).await;
    assert_eq!(
        (read["type"].as_str(), &read["data"]["peer_id"]),
        (Some("read"), &json!(bob_id))
    );

    // Frames: ping, malformed, an unknown live, then a live on the air and its danmaku.
    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(next_event(&mut socket).await["type"], "pong");
    socket.send(Message::text("not json")).await.unwrap();
    let error = next_event(&mut socket).await;
    assert_eq!(
        (error["type"].as_str(), error["data"]["code"].as_i64()),
        (Some("error"), Some(40002))
    );
    // A live named wrongly is 40002, not named at all 40001; a ping ignores what it carries.
    for (frame, expected) in [
        (r#"{"type":"subscribe","live_id":"7"}"#, "40002"),
        (r#"{"type":"unsubscribe","live_id":7.5}"#, "40002"),
        (r#"{"type":"subscribe"}"#, "40001"),
        (r#"{"type":"ping","live_id":"x"}"#, "pong"),
    ] {
        socket.send(Message::text(frame)).await.unwrap();
        let answer = next_event(&mut socket).await;
        let got = match answer["type"].as_str() {
            Some("error") => answer["data"]["code"].to_string(),
            other => other.unwrap_or_default().to_owned(),
        };
        assert_eq!(got, expected, "{frame}: {answer}");
    }
    socket
        .send(Message::text(r#"{"type":"subscribe","live_id":999}"#))
        .await
        .unwrap();
    assert_eq!(next_event(&mut socket).await["data"]["code"], 40401);
    let host = t.operator("host", "host", &[]).await;
    let live = t.create_live(&host, "Live").await;
    socket
        .send(Message::text(
            json!({"type": "subscribe", "live_id": live}).to_string(),
        ))
        .await
        .unwrap();
    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut socket).await["type"],
        "pong",
        "subscribed before the ping's answer"
    );
    t.call(
        Method::POST,
        &format!("/api/live/{live}/danmaku"),
        &[("content", "加油")],
        Some(&bob),
    )
    .await;
    let danmaku = next_event(&mut socket).await;
    assert_eq!(
        (
            danmaku["type"].as_str(),
            danmaku["data"]["content"].as_str()
        ),
        (Some("danmaku"), Some("加油"))
    );

    // A block made while the socket is open stops Bob's danmaku at once.
    let res = t
        .call(
            Method::POST,
            "/api/me/blocks/add",
            &[("user_id", &bob_id.to_string())],
            Some(&alice),
        )
        .await;
    assert_eq!(code(&res), 0);
    t.call(
        Method::POST,
        &format!("/api/live/{live}/danmaku"),
        &[("content", "blocked")],
        Some(&bob),
    )
    .await;
    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut socket).await["type"],
        "pong",
        "no danmaku crossed the block"
    );

    // A frame over 4 KiB closes the socket.
    socket.send(Message::text("x".repeat(5000))).await.unwrap();
    let closing = tokio::time::timeout(BOUND, socket.next()).await.unwrap();
    assert!(
        !matches!(closing, Some(Ok(Message::Text(_)))),
        "{closing:?}"
    );

    // Logout ends the user's connections with a `bye`.
    let mut again = open(addr, &signed(&t, "/api/ws", &[], Some(&alice)))
        .await
        .unwrap();
    t.call(Method::POST, "/api/auth/logout", &[], Some(&alice))
        .await;
    let bye = next_event(&mut again).await;
    assert_eq!(
        (bye["type"].as_str(), bye["data"]["reason"].as_str()),
        (Some("bye"), Some("logout"))
    );
}

#[tokio::test]
async fn server_sent_events_carry_the_same_events() {
    let t = TestApp::new().await;
    let addr = serve(&t).await;
    let (alice, alice_id) = t.user("18900000061").await;
    let (bob, _) = t.user("18900000062").await;
    let path = signed(&t, "/api/events", &[], Some(&alice));
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(path)
        .header("host", "x")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body();
    t.message(&bob, alice_id, "over sse").await;
    let mut seen = String::new();
    tokio::time::timeout(BOUND, async {
        use http_body_util::BodyExt;
        while !seen.contains("over sse") {
            let frame = body.frame().await.unwrap().unwrap();
            if let Ok(data) = frame.into_data() {
                seen.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    })
    .await
    .expect("the message arrives as an event");
    assert!(seen.contains("event: message\n"), "{seen}");
}

/// A reader that stops reading loses danmaku (and is told how many with `lag`); a reader that
/// keeps up gets every one, in order: the slow one never holds the others back.
#[tokio::test]
async fn a_slow_reader_gets_lag_and_never_slows_the_others() {
    use example_dating::realtime::{Route, event};
    let t = TestApp::new().await;
    let addr = serve(&t).await;
    let (fast_token, _) = t.user("18900000081").await;
    let (slow_token, _) = t.user("18900000082").await;
    let host = t.operator("host", "host", &[]).await;
    let live = t.create_live(&host, "Busy").await;
    let subscribe = json!({"type": "subscribe", "live_id": live}).to_string();
    let mut fast = open(addr, &signed(&t, "/api/ws", &[], Some(&fast_token)))
        .await
        .unwrap();
    let mut slow = open(addr, &signed(&t, "/api/ws", &[], Some(&slow_token)))
        .await
        .unwrap();
    for socket in [&mut fast, &mut slow] {
        socket.send(Message::text(subscribe.clone())).await.unwrap();
        socket
            .send(Message::text(r#"{"type":"ping"}"#))
            .await
            .unwrap();
        assert_eq!(next_event(socket).await["type"], "pong");
    }
    // The fast reader reads on its own task and reports each danmaku's number.
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel::<Value>();
    tokio::spawn(async move {
        loop {
            let event = next_event(&mut fast).await;
            let _ = seen_tx.send(event);
        }
    });
    let pad = "x".repeat(8 * 1024);
    let (batches, size) = (30, 100);
    let mut received = Vec::new();
    for batch in 0..batches {
        for i in 0..size {
            let n = batch * size + i;
            let danmaku = event("danmaku", json!({ "n": n, "pad": pad }));
            t.state.hub.publish(Route::Live(live), danmaku, None).await;
        }
        while received.len() < (batch + 1) * size {
            let event = tokio::time::timeout(BOUND, seen.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                event["type"], "danmaku",
                "the fast reader is never told to lag"
            );
            received.push(event["data"]["n"].as_u64().unwrap() as usize);
        }
    }
    assert_eq!(
        received,
        (0..batches * size).collect::<Vec<_>>(),
        "every danmaku, in order"
    );

    // The slow reader now reads what reached it: a `lag` says how many it lost.
    let mut lagged = 0;
    let mut got = 0;
    while got + lagged < batches * size {
        let event = next_event(&mut slow).await;
        match event["type"].as_str() {
            Some("danmaku") => got += 1,
            Some("lag") => lagged += event["data"]["dropped"].as_u64().unwrap() as usize,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(lagged > 0, "the slow reader was told it lost danmaku");
    assert_eq!(
        got + lagged,
        batches * size,
        "each danmaku delivered or counted"
    );
}
