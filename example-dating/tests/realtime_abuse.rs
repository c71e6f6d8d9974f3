//! Real time under abuse, over real sockets: clients that stop reading (a small receive
//! buffer, then silence) are closed at the write timeout, or at once when their account is
//! banned; an upgrade racing the session's revocation never survives it; an oversized frame
//! is closed with 1009, a text that is not UTF-8 with 1007.

mod common;
mod sockets;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{TestApp, code};
use example_dating::realtime::{Route, event};
use futures_util::{SinkExt, StreamExt};
use http::Method;
use serde_json::json;
use sockets::{BOUND, Socket, open, signed};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Serves `t` with `write_timeout`.
async fn serve(t: &TestApp, write_timeout: Duration) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = kotori::serve(listener, t.app.clone()).write_timeout(write_timeout);
    tokio::spawn(server.into_future());
    addr
}

/// A TCP connection with a 4 KiB receive buffer: it fills fast once the client stops reading.
async fn small_window(addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Publishes 16 KiB events to `user` until they hold no connection (bounded): a client that
/// does not read fills its buffers within a few hundred events, whatever the kernel lets the
/// server's send buffer grow to — so the write timeout is reached in a bounded time even on a
/// loaded machine, where pongs alone (a few bytes each) could take longer than the bound.
async fn publish_until_closed(t: &TestApp, user: i64) {
    let deadline = tokio::time::Instant::now() + BOUND;
    let pad = "x".repeat(16 * 1024);
    while t.state.hub.connections_of(user) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "user {user} still holds {} connection(s)",
            t.state.hub.connections_of(user)
        );
        let message = event("message", json!({ "pad": pad }));
        t.state.hub.publish(Route::User(user), message, None).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits (bounded) until `user` holds no connection on the instance.
async fn all_closed(t: &TestApp, user: i64) {
    let deadline = tokio::time::Instant::now() + BOUND;
    while t.state.hub.connections_of(user) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "user {user} still holds {} connection(s)",
            t.state.hub.connections_of(user)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A WebSocket of `token` over a small window: the handshake, then the socket.
async fn stuck_socket(t: &TestApp, addr: SocketAddr, token: &str) -> Socket {
    let url = format!("ws://{addr}{}", signed(t, "/api/ws", &[], Some(token)));
    let stream = small_window(addr).await;
    let (socket, _) =
        tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
    socket
}

/// Pings without reading the pongs, counting them in `sent`: the server's answers pile up
/// until its writes wait (and then the client's, as the server stops reading).
fn flood(mut socket: Socket, sent: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let ping = json!({"type": "ping"}).to_string();
        while socket.send(Message::text(ping.clone())).await.is_ok() {
            sent.fetch_add(1, Ordering::Relaxed);
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_that_stops_reading_is_closed_and_frees_its_slot() {
    let t = TestApp::new().await;
    let addr = serve(&t, Duration::from_millis(500)).await;
    let (token, user) = t.user("18900000091").await;
    let _flooding = flood(stuck_socket(&t, addr, &token).await, Arc::default());
    publish_until_closed(&t, user).await;
    // Its slot is free: five more fit under the user's cap, and they work.
    let mut sockets = Vec::new();
    for _ in 0..5 {
        sockets.push(
            open(addr, &signed(&t, "/api/ws", &[], Some(&token)))
                .await
                .unwrap(),
        );
    }
    for socket in &mut sockets {
        socket
            .send(Message::text(r#"{"type":"ping"}"#))
            .await
            .unwrap();
        assert_eq!(sockets::next_event(socket).await["type"], "pong");
    }
    assert_eq!(t.state.hub.connections_of(user), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_closes_a_socket_whose_client_stopped_reading_at_once() {
    let t = TestApp::new().await;
    // A write timeout the test never reaches: the ban must do it.
    let addr = serve(&t, Duration::from_secs(600)).await;
    let (token, user) = t.user("18900000092").await;
    let sent = Arc::new(AtomicU64::new(0));
    let _flooding = flood(stuck_socket(&t, addr, &token).await, Arc::clone(&sent));
    assert_eq!(t.state.hub.connections_of(user), 1);
    // The server has been answering (and, with a 4 KiB window, soon waits on the client).
    while sent.load(Ordering::Relaxed) < 2_000 {
        tokio::task::yield_now().await;
    }
    example_dating::people::account::ban(&t.state, user, "stuck")
        .await
        .unwrap();
    all_closed(&t, user).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_that_stops_being_read_is_closed() {
    let t = TestApp::new().await;
    let addr = serve(&t, Duration::from_millis(500)).await;
    let (token, user) = t.user("18900000093").await;
    let mut stream = small_window(addr).await;
    let path = signed(&t, "/api/events", &[], Some(&token));
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + BOUND;
    while t.state.hub.connections_of(user) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the stream opened");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Large events until the connection is gone: the stream's writes wait, then time out.
    publish_until_closed(&t, user).await;
    drop(stream);
}

/// A client sending subscribes as fast as it can: the first burst is read (each a database
/// read: 40401 for a live that is not on the air), the rest get 42901 unread, at the steady
/// rate at most — and the connection stays open; a ping still gets its pong.
#[tokio::test]
async fn subscribes_past_the_budget_are_refused_unread() {
    use example_dating::realtime::budget::{SUBSCRIBE_BURST, SUBSCRIBES_PER_SECOND};
    let t = TestApp::new().await;
    let addr = sockets::serve(&t).await;
    let (token, _) = t.user("18900000095").await;
    let mut socket = open(addr, &signed(&t, "/api/ws", &[], Some(&token)))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let frames = 200;
    let subscribe = json!({"type": "subscribe", "live_id": 999_999}).to_string();
    for _ in 0..frames {
        socket.send(Message::text(subscribe.clone())).await.unwrap();
    }
    let (mut read, mut refused) = (0u64, 0u64);
    for _ in 0..frames {
        let answer = sockets::next_event(&mut socket).await;
        assert_eq!(answer["type"], "error", "{answer}");
        match answer["data"]["code"].as_u64() {
            Some(40401) => read += 1,
            Some(42901) => refused += 1,
            other => panic!("{other:?}: {answer}"),
        }
    }
    // However slowly this ran, no more than the burst and what the elapsed time earned.
    let earned = started.elapsed().as_secs_f64() * f64::from(SUBSCRIBES_PER_SECOND);
    assert!(read >= u64::from(SUBSCRIBE_BURST), "{read} read");
    assert!(
        read as f64 <= f64::from(SUBSCRIBE_BURST) + earned + 1.0,
        "{read} read in {:?}",
        started.elapsed()
    );
    assert_eq!(read + refused, frames);
    assert!(refused > 0);
    // Pings cost what their bytes do: not counted, answered however many come.
    for _ in 0..50 {
        let ping = json!({"type": "ping"}).to_string();
        socket.send(Message::text(ping)).await.unwrap();
    }
    for _ in 0..50 {
        assert_eq!(sockets::next_event(&mut socket).await["type"], "pong");
    }
}

/// The close code a socket ends with, skipping heartbeats.
async fn close_code(socket: &mut Socket) -> CloseCode {
    loop {
        let frame = tokio::time::timeout(BOUND, socket.next()).await.unwrap();
        match frame {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// A frame over 4 KiB closes the socket with 1009, a text frame that is not UTF-8 with 1007.
#[tokio::test]
async fn an_oversized_or_broken_frame_is_closed_with_its_code() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let t = TestApp::new().await;
    let addr = sockets::serve(&t).await;
    let (token, _) = t.user("18900000094").await;
    let mut socket = open(addr, &signed(&t, "/api/ws", &[], Some(&token)))
        .await
        .unwrap();
    socket
        .send(Message::text("x".repeat(5 * 1024)))
        .await
        .unwrap();
    assert_eq!(close_code(&mut socket).await, CloseCode::Size);

    let mut socket = open(addr, &signed(&t, "/api/ws", &[], Some(&token)))
        .await
        .unwrap();
    let not_utf8 = Frame::message(vec![0xff, 0xfe], OpCode::Data(Data::Text), true);
    socket.send(Message::Frame(not_utf8)).await.unwrap();
    assert_eq!(close_code(&mut socket).await, CloseCode::Invalid);
}

/// 200 rounds of an upgrade racing the end of its session — a logout, a ban, a deletion in
/// turn: a socket that opened is closed (bye, then the close frame) without waiting for any
/// heartbeat, and the user holds no connection after.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_upgrade_racing_a_revocation_never_survives_it() {
    let t = Arc::new(TestApp::new().await);
    let addr = sockets::serve(&t).await;
    let admin = t
        .operator("racer", "admin", &["users:read", "users:ban"])
        .await;
    let mut opened = 0;
    for round in 0..200u64 {
        let (token, user) = t.user(&format!("1850000{:04}", round)).await;
        let path = signed(&t, "/api/ws", &[], Some(&token));
        let upgrade = tokio::spawn(async move { open(addr, &path).await });
        let revoke = {
            let (t, admin, token) = (Arc::clone(&t), admin.clone(), token.clone());
            tokio::spawn(async move {
                for _ in 0..round % 16 {
                    tokio::task::yield_now().await;
                }
                match round % 3 {
                    0 => code(
                        &t.call(Method::POST, "/api/auth/logout", &[], Some(&token))
                            .await,
                    ),
                    1 => {
                        let ban = format!("/manage/dating/admin/api/users/{user}/ban.json");
                        code(
                            &t.manage(Method::POST, &ban, &[("reason", "race")], Some(&admin))
                                .await,
                        )
                    }
                    _ => code(
                        &t.call(Method::POST, "/api/me/delete", &[], Some(&token))
                            .await,
                    ),
                }
            })
        };
        assert_eq!(revoke.await.unwrap(), 0, "round {round}");
        if let Ok(mut socket) = upgrade.await.unwrap() {
            opened += 1;
            let ended = tokio::time::timeout(BOUND, async {
                while let Some(Ok(frame)) = socket.next().await {
                    if let Message::Close(_) = frame {
                        return;
                    }
                }
            })
            .await;
            assert!(
                ended.is_ok(),
                "round {round}: the socket survived its session"
            );
        }
        all_closed(&t, user).await;
    }
    eprintln!("{opened} of 200 upgrades went through before the revocation");
}

/// Past the per-address limit, the address's oldest socket is closed (`bye` `replaced`),
/// whoever's it is: one address cannot hold the server's sockets.
#[tokio::test]
async fn one_address_holds_at_most_its_limit_of_sockets() {
    let t = TestApp::new().await;
    t.state.hub.limit_per_address(3);
    let addr = sockets::serve(&t).await;
    let mut sockets = Vec::new();
    for i in 0..4 {
        let (token, _) = t.user(&format!("1890000010{i}")).await;
        let mut socket = open(addr, &signed(&t, "/api/ws", &[], Some(&token)))
            .await
            .unwrap();
        socket
            .send(Message::text(r#"{"type":"ping"}"#))
            .await
            .unwrap();
        assert_eq!(sockets::next_event(&mut socket).await["type"], "pong");
        sockets.push(socket);
    }
    let bye = sockets::next_event(&mut sockets[0]).await;
    assert_eq!(bye, json!({"type": "bye", "data": {"reason": "replaced"}}));
    for socket in &mut sockets[1..] {
        socket
            .send(Message::text(r#"{"type":"ping"}"#))
            .await
            .unwrap();
        assert_eq!(
            sockets::next_event(socket).await["type"],
            "pong",
            "the newer stay"
        );
    }
}
