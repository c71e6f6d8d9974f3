//! docs/src/dating/api/realtime.md across instances: two example-datings sharing a real Redis deliver to each
//! other's connections, agree on the oldest connection, end a banned user's sockets everywhere,
//! and resume delivery by themselves after Redis comes back.

mod common;
mod sockets;

use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, code, data};
use futures_util::{SinkExt, StreamExt};
use http::Method;
use serde_json::Value;
use sockets::{BOUND, next_event, open, serve, signed};
use tokio_tungstenite::tungstenite::Message;

/// Two instances share a real Redis: a message sent on one reaches a socket on the other, and
/// a ban on one ends the user's socket on the other.
#[tokio::test]
async fn two_instances_deliver_and_close_through_redis() {
    if let Some(url) = common::service_url("KOTORI_TEST_REDIS_URL", "two_instances_deliver...") {
        two_instances_deliver_and_close(url).await;
    }
}

/// The same on a Redis Cluster (pub/sub messages cross the cluster bus).
#[tokio::test]
async fn two_instances_deliver_and_close_through_a_redis_cluster() {
    if let Some(url) = common::service_url(
        "KOTORI_TEST_REDIS_CLUSTER_URL",
        "two_instances_deliver..._cluster",
    ) {
        two_instances_deliver_and_close(url).await;
    }
}

/// An instance of the app on `db_url`, its store and fan-out on the Redis at `redis_url`.
async fn instance(redis_url: &str, prefix: &str, db_url: &str) -> TestApp {
    TestApp::on_redis(redis_url, prefix, db_url).await
}

async fn two_instances_deliver_and_close(redis_url: String) {
    let prefix = format!(
        "kotori-test:{}:{}:rt:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let dir = common::TempDir::new("rt");
    let db_url = dir.sqlite_url();
    let instance = async || {
        let t = instance(&redis_url, &prefix, &db_url).await;
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
        let res = two.message(&bob, alice_id, "across").await;
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
    let res = two.message(&bob, alice_id, "over sse, across").await;
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
    let dir = common::TempDir::new("rt");
    let db_url = dir.sqlite_url();
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
    let bob = example_dating::people::sessions::issue(&two.state, bob_id)
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
}

/// One sender's concurrent messages to one recipient, sent through two instances sharing a
/// database and a Redis, reach the recipient's connection in `msg_id` order (docs/src/dating/api/realtime.md).
async fn a_conversation_arrives_in_order(redis_url: String, db_url: String) {
    let prefix = format!(
        "kotori-test:{}:{}:order:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let one = Arc::new(instance(&redis_url, &prefix, &db_url).await);
    let two = Arc::new(instance(&redis_url, &prefix, &db_url).await);
    let (sender, sender_id) = one.user("18900000075").await;
    let (_, recipient) = one.user("18900000076").await;
    // Sixty messages at once is past a person's rate (30 a minute): room for this test's.
    one.lift_message_limit(sender_id).await;
    let mut conn = one.state.hub.register(recipient, None).await;
    // Instance one's subscription may still be settling: send until one arrives.
    loop {
        assert_eq!(code(&two.message(&sender, recipient, "hello").await), 0);
        let got = tokio::time::timeout(Duration::from_millis(200), conn.events.recv()).await;
        if got.is_ok() {
            break;
        }
    }
    while conn.events.try_recv().is_ok() {}
    let sends: Vec<_> = (0..60)
        .map(|i| {
            let t = Arc::clone(if i % 2 == 0 { &one } else { &two });
            let sender = sender.clone();
            tokio::spawn(
                async move { code(&t.message(&sender, recipient, &format!("m{i}")).await) },
            )
        })
        .collect();
    for send in sends {
        assert_eq!(send.await.unwrap(), 0);
    }
    let mut ids = Vec::new();
    while ids.len() < 60 {
        let out = tokio::time::timeout(BOUND, conn.events.recv())
            .await
            .expect("every message arrives")
            .unwrap();
        let example_dating::realtime::hub::Out::Event(text) = out;
        let event: Value = serde_json::from_str(&text).unwrap();
        ids.push(event["data"]["msg_id"].as_i64().unwrap());
    }
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "delivered in msg_id order");
    one.state.hub.unregister(conn.id).await;
    drop((one, two));
    common::instances::drop_keys(&redis_url, &prefix).await;
}

async fn in_order_on(var: &str, test: &str) {
    let Some(redis) = common::service_url("KOTORI_TEST_REDIS_URL", test) else {
        return;
    };
    let Some(server) = common::service_url(var, test) else {
        return;
    };
    common::on_fresh_database(&server, |db_url| async move {
        a_conversation_arrives_in_order(redis, db_url).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_conversation_arrives_in_order_on_postgres_and_redis() {
    in_order_on(
        "KOTORI_TEST_POSTGRES_URL",
        "a_conversation_arrives_in_order_on_postgres_and_redis",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_conversation_arrives_in_order_on_mariadb_and_redis() {
    in_order_on(
        "KOTORI_TEST_MYSQL_URL",
        "a_conversation_arrives_in_order_on_mariadb_and_redis",
    )
    .await;
}
