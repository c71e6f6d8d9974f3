//! API.md §10 over real sockets: the guards refuse an upgrade before any 101, events reach
//! WebSocket and Server-Sent Events clients, client frames are answered, `bye` ends a session's
//! connections — and, with Redis, across two instances.

mod common;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, code, data};
use futures_util::{SinkExt, StreamExt};
use http::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message};

const BOUND: Duration = Duration::from_secs(20);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn serve(t: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(kotori::serve(listener, t.app.clone()).into_future());
    addr
}

/// A signed GET path (the signature travels in the query string, like any `/api` GET).
fn signed(t: &TestApp, path: &str, params: &[(&str, &str)], token: Option<&str>) -> String {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let all = t.signer.sign(&Method::GET, path, &params, token);
    format!("{path}?{}", example_dating::client::encode(&all))
}

async fn open(addr: SocketAddr, path_and_query: &str) -> Result<Socket, tungstenite::Error> {
    let (socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}{path_and_query}")).await?;
    Ok(socket)
}

/// The next event (text frame) as JSON, skipping pings.
async fn next_event(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(BOUND, socket.next())
            .await
            .expect("an event arrives")
            .expect("the socket is open")
            .unwrap();
        match frame {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

fn refused(result: Result<Socket, tungstenite::Error>) -> i64 {
    match result {
        Err(tungstenite::Error::Http(res)) => {
            let body: Value =
                serde_json::from_slice(res.body().as_deref().unwrap_or(b"{}")).unwrap();
            body["code"].as_i64().expect("the JSON envelope")
        }
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("the upgrade went through"),
    }
}

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

    let sent = t
        .call(
            Method::POST,
            &format!("/api/users/{alice_id}/messages"),
            &[("msg_type", "text"), ("content", "hi")],
            Some(&bob),
        )
        .await;
    let msg_id = data(&sent)["msg_id"].clone();
    let event = next_event(&mut socket).await;
    assert_eq!(
        (event["type"].as_str(), &event["data"]["msg_id"]),
        (Some("message"), &msg_id)
    );

    // Bob reads his history after Alice answers: Alice hears that it was read.
    t.call(
        Method::POST,
        &format!("/api/users/{bob_id}/messages"),
        &[("msg_type", "text"), ("content", "yo")],
        Some(&alice),
    )
    .await;
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
    t.call(
        Method::POST,
        &format!("/api/users/{alice_id}/messages"),
        &[("msg_type", "text"), ("content", "over sse")],
        Some(&bob),
    )
    .await;
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

/// Two instances share a real Redis: a message sent on one reaches a socket on the other, and
/// a ban on one ends the user's socket on the other.
#[tokio::test]
async fn two_instances_deliver_and_close_through_redis() {
    let Some(redis_url) = common::service_url("KOTORI_TEST_REDIS_URL", "two_instances_deliver...")
    else {
        return;
    };
    let prefix = format!(
        "kotori-test:{}:{}:rt:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let file = std::env::temp_dir().join(format!(
        "kotori-rt-{}-{}.sqlite",
        std::process::id(),
        example_dating::random::hex_token(4)
    ));
    let db_url = format!("sqlite://{}?mode=rwc", file.display());
    let instance = async || {
        let store = Arc::new(
            example_dating::store::RedisStore::connect(&redis_url, &prefix)
                .await
                .unwrap(),
        );
        let hub = example_dating::realtime::Hub::with_redis(&redis_url, &prefix)
            .await
            .unwrap();
        let sms = Arc::new(example_dating::auth::sms::LogSender { show_code: true });
        let t = TestApp::with_parts(common::config(), &db_url, store, sms, hub).await;
        let addr = serve(&t).await;
        (t, addr)
    };
    let (one, addr_one) = instance().await;
    let (two, _) = instance().await;
    let (alice, alice_id) = one.user("18900000071").await;
    let (bob, _) = one.user("18900000072").await;
    let mut socket = open(addr_one, &signed(&one, "/api/ws", &[], Some(&alice)))
        .await
        .unwrap();
    // The subscription of instance one may still be settling: ping until it answers.
    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(next_event(&mut socket).await["type"], "pong");
    let mut delivered = None;
    for _ in 0..50 {
        let res = two
            .call(
                Method::POST,
                &format!("/api/users/{alice_id}/messages"),
                &[("msg_type", "text"), ("content", "across")],
                Some(&bob),
            )
            .await;
        assert_eq!(code(&res), 0);
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::from_millis(200), socket.next()).await
        {
            delivered = Some(serde_json::from_str::<Value>(text.as_str()).unwrap());
            break;
        }
    }
    let delivered = delivered.expect("a message sent on instance two reaches instance one");
    assert_eq!(delivered["data"]["content"], "across");

    // Server-Sent Events across instances too.
    let path = signed(&one, "/api/events", &[], Some(&alice));
    let stream = tokio::net::TcpStream::connect(addr_one).await.unwrap();
    let (mut sse, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(path)
        .header("host", "x")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let mut body = sse.send_request(req).await.unwrap().into_body();
    let res = two
        .call(
            Method::POST,
            &format!("/api/users/{alice_id}/messages"),
            &[("msg_type", "text"), ("content", "over sse, across")],
            Some(&bob),
        )
        .await;
    assert_eq!(code(&res), 0);
    let mut seen = String::new();
    tokio::time::timeout(BOUND, async {
        use http_body_util::BodyExt;
        while !seen.contains("over sse, across") {
            if let Ok(data) = body.frame().await.unwrap().unwrap().into_data() {
                seen.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    })
    .await
    .expect("the message sent on instance two reaches an SSE stream on instance one");
    drop(body);
    // The socket got the same message.
    let again = loop {
        let event = next_event(&mut socket).await;
        if event["data"]["content"] == "over sse, across" {
            break event;
        }
    };
    assert_eq!(again["type"], "message");

    // A sixth connection, on the other instance, replaces the oldest (this one's first).
    let (_, addr_two) = (0, serve(&two).await);
    let mut more = Vec::new();
    for i in 0..5 {
        let addr = if i % 2 == 0 { addr_two } else { addr_one };
        more.push(
            open(addr, &signed(&one, "/api/ws", &[], Some(&alice)))
                .await
                .unwrap(),
        );
    }
    let replaced = loop {
        let event = next_event(&mut socket).await;
        if event["type"] == "bye" {
            break event;
        }
    };
    assert_eq!(replaced["data"]["reason"], "replaced");
    let mut socket = more.remove(0);

    let admin = two.operator("admin", "admin", &["users:ban"]).await;
    let res = two
        .manage(
            Method::POST,
            &format!("/manage/dating/admin/api/users/{alice_id}/ban.json"),
            &[("reason", "spam")],
            Some(&admin),
        )
        .await;
    assert_eq!(code(&res), 0);
    // The ban ends the user's sockets on both instances.
    let mut on_one = more.remove(0);
    for socket in [&mut socket, &mut on_one] {
        let bye = loop {
            let event = next_event(socket).await;
            if event["type"] == "bye" {
                break event;
            }
        };
        assert_eq!(bye["data"]["reason"], "banned");
    }
    let store = example_dating::store::RedisStore::connect(&redis_url, &prefix)
        .await
        .unwrap();
    store.clear().await.unwrap();
    let _ = std::fs::remove_file(&file);
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

/// Redis dies mid-conversation: the message written meanwhile is in the database (and reaches
/// its recipient later through `after_id`), and delivery across instances resumes by itself.
#[tokio::test]
async fn delivery_resumes_after_redis_comes_back() {
    if common::service_url("KOTORI_TEST_REDIS_URL", "delivery_resumes_after_redis...").is_none() {
        return;
    }
    let port = common::free_port();
    let mut redis = common::OwnRedis::start(port).unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    let file = std::env::temp_dir().join(format!(
        "kotori-rt-{}-{}.sqlite",
        std::process::id(),
        example_dating::random::hex_token(4)
    ));
    let db_url = format!("sqlite://{}?mode=rwc", file.display());
    // The store is in-process here: only the fan-out goes through the Redis that dies.
    let instance = async || {
        let store = Arc::new(example_dating::store::MemoryStore::new());
        let hub = example_dating::realtime::Hub::with_redis(&url, "kotori-test:rt:")
            .await
            .unwrap();
        let sms = Arc::new(example_dating::auth::sms::LogSender { show_code: true });
        let t = TestApp::with_parts(common::config(), &db_url, store, sms, hub).await;
        let addr = serve(&t).await;
        (t, addr)
    };
    let (one, addr_one) = instance().await;
    let (two, _) = instance().await;
    let (alice, alice_id) = one.user("18900000091").await;
    let (_, bob_id) = one.user("18900000092").await;
    let bob = example_dating::auth::session::issue(&two.state, bob_id)
        .await
        .unwrap()
        .0;
    let mut socket = open(addr_one, &signed(&one, "/api/ws", &[], Some(&alice)))
        .await
        .unwrap();
    let send = |text: &'static str| {
        let (two, bob) = (&two, bob.clone());
        async move {
            let path = format!("/api/users/{alice_id}/messages");
            let res = two
                .call(
                    Method::POST,
                    &path,
                    &[("msg_type", "text"), ("content", text)],
                    Some(&bob),
                )
                .await;
            assert_eq!(code(&res), 0, "the API does not need the fan-out");
            data(&res)["msg_id"].as_i64().unwrap()
        }
    };
    // Up: delivered across instances (retry until the subscription has settled).
    let mut tries = 0;
    let first = loop {
        tries += 1;
        assert!(tries < 60, "delivery across instances never settled");
        send("before").await;
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::from_millis(300), socket.next()).await
        {
            break serde_json::from_str::<Value>(text.as_str()).unwrap();
        }
    };
    assert_eq!(first["data"]["content"], "before");
    // Down: the message is stored; its event cannot cross.
    redis.stop();
    let missed = send("during").await;
    // Back: delivery resumes by itself.
    let _redis = common::OwnRedis::start(port).unwrap();
    let mut tries = 0;
    let resumed = loop {
        tries += 1;
        assert!(tries < 60, "delivery never resumed after Redis came back");
        send("after").await;
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::from_millis(300), socket.next()).await
        {
            let event: Value = serde_json::from_str(text.as_str()).unwrap();
            if event["data"]["content"] == "after" {
                break event;
            }
        }
    };
    assert_eq!(resumed["type"], "message");
    // The missed one is in the history, after the first.
    let first_id = first["data"]["msg_id"].as_i64().unwrap();
    let catch_up = one
        .call(
            Method::GET,
            &format!("/api/users/{bob_id}/messages"),
            &[("after_id", &first_id.to_string())],
            Some(&alice),
        )
        .await;
    let ids: Vec<i64> = data(&catch_up)["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["msg_id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&missed), "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
    let _ = std::fs::remove_file(&file);
}
