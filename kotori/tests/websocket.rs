//! WebSocket routes over real sockets, opened by a real client (tokio-tungstenite): the tree's
//! guards and loaders run before the 101, refusals are rendered, the handshake is checked,
//! and a graceful shutdown closes open sockets without waiting on them for ever.

mod net;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::StatusCode;
use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
use kotori::{Ctx, Kotori, Path, Rejection, Res};
use net::{BOUND, get, http1, start, text};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite};

struct Caller(String);
struct Room(u64);

/// The caller from `Authorization: Bearer <name>`.
fn load_caller(cx: &mut Ctx<()>) -> Result<Caller, Rejection> {
    cx.header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|name| Caller(name.to_owned()))
        .ok_or_else(Rejection::unauthorized)
}

/// Room 7 exists; the others do not.
fn load_room(Path(id): Path<u64>) -> Option<Room> {
    (id == 7).then_some(Room(id))
}

async fn chat(ws: WebSocketUpgrade, caller: Res<Caller>, room: Res<Room>) -> kotori::Response {
    let prefix = format!("{}@{}", caller.0, room.0);
    ws.max_message_size(1024)
        .on_upgrade(move |mut socket: WebSocket| async move {
            while let Some(Ok(message)) = socket.recv().await {
                if let Message::Text(text) = message {
                    let reply = format!("{prefix}: {}", text.as_str());
                    if socket.send(Message::text(reply)).await.is_err() {
                        break;
                    }
                }
            }
        })
}

/// A socket that never reads: only the shutdown deadline ends it.
async fn deaf(ws: WebSocketUpgrade) -> kotori::Response {
    ws.on_upgrade(|socket: WebSocket| async move {
        let _held = socket;
        std::future::pending::<()>().await;
    })
}

/// Told when the socket handler named `name` has let its socket go: each handler of these
/// tests has its own, as the tests run at once.
fn ended(name: &str) -> Arc<tokio::sync::Notify> {
    static ENDED: OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Notify>>>,
    > = OnceLock::new();
    let mut all = ENDED.get_or_init(Default::default).lock().unwrap();
    Arc::clone(all.entry(name.to_owned()).or_default())
}

/// Reads until the socket fails or ends (1 KiB frames at most, read 1 KiB at a time, so that
/// a larger frame is refused from its header, most of it unread), drops it, then says so as
/// `ended(name)`.
async fn told(ws: WebSocketUpgrade, Path(name): Path<String>) -> kotori::Response {
    ws.max_message_size(1024)
        .max_frame_size(1024)
        .read_buffer_size(1024)
        .on_upgrade(|mut socket: WebSocket| async move {
            while let Some(Ok(_)) = socket.recv().await {}
            drop(socket);
            ended(&name).notify_one();
        })
}

/// Reads one message (1 KiB at a time), closes the socket with 4000, then says so.
async fn closer(ws: WebSocketUpgrade) -> kotori::Response {
    ws.read_buffer_size(1024)
        .on_upgrade(|mut socket: WebSocket| async move {
            let _ = socket.recv().await;
            let _ = socket.close(4000, "enough").await;
            ended("closer").notify_one();
        })
}

/// Reads (1 KiB at a time) until the socket ends — the server's shutdown ends it — then says so.
async fn listener(ws: WebSocketUpgrade) -> kotori::Response {
    ws.read_buffer_size(1024)
        .on_upgrade(|mut socket: WebSocket| async move {
            while let Some(Ok(_)) = socket.recv().await {}
            drop(socket);
            ended("listener").notify_one();
        })
}

fn app() -> kotori::App<()> {
    let app = Kotori::new(());
    app.get("/hello", || async { "hello" });
    // Refusals under /ws are JSON, like an API's.
    let ws = app
        .node("/ws")
        .render(|_: &Ctx<()>, r: &Rejection| kotori::render::json(r))
        .load(load_caller);
    ws.node("/rooms/{id}").load(load_room).get("/chat", chat);
    ws.get("/deaf", deaf);
    ws.get("/told/{name}", told);
    ws.get("/closer", closer);
    ws.get("/listener", listener);
    app.build().unwrap()
}

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
) -> Result<Client, tungstenite::Error> {
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    let (socket, response) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    Ok(socket)
}

/// The refusal of a failed handshake: status and body.
fn refused(result: Result<Client, tungstenite::Error>) -> (StatusCode, serde_json::Value) {
    match result {
        Err(tungstenite::Error::Http(res)) => {
            let body = res.body().clone().unwrap_or_default();
            let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            (res.status(), json)
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected a refusal, the socket opened"),
    }
}

#[tokio::test]
async fn the_guards_and_loaders_run_before_the_upgrade_and_the_handler_gets_their_resources() {
    let server = start(app(), |s| s).await;

    let (status, body) = refused(connect(server.addr, "/ws/rooms/7/chat", None).await);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["code"], 40101,
        "rendered by the node's renderer: {body}"
    );
    let (status, _) = refused(connect(server.addr, "/ws/rooms/8/chat", Some("ann")).await);
    assert_eq!(status, StatusCode::NOT_FOUND, "the loader refused: no 101");

    let mut socket = connect(server.addr, "/ws/rooms/7/chat", Some("ann"))
        .await
        .unwrap();
    socket.send(Message::text("hi")).await.unwrap();
    let reply = tokio::time::timeout(BOUND, socket.next()).await.unwrap();
    assert_eq!(reply.unwrap().unwrap(), Message::text("ann@7: hi"));

    // Pings are answered by the protocol layer.
    socket
        .send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(BOUND, socket.next()).await.unwrap();
    assert_eq!(
        pong.unwrap().unwrap(),
        Message::Pong(b"are you there".to_vec().into())
    );

    // The server keeps serving plain requests while the socket is open.
    let mut client = http1(server.addr).await;
    let res = client.send_request(get("/hello")).await.unwrap();
    assert_eq!(text(res).await, "hello");

    socket.close(None).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_plain_get_is_426_and_a_malformed_upgrade_is_400() {
    let server = start(app(), |s| s).await;
    let mut client = http1(server.addr).await;
    let plain = http::Request::get("/ws/rooms/7/chat")
        .header("host", "x")
        .header("authorization", "Bearer ann")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let res = client.send_request(plain).await.unwrap();
    assert_eq!(res.status(), StatusCode::UPGRADE_REQUIRED);
    assert_eq!(res.headers()["upgrade"], "websocket");
    let body: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(body["code"], 42601, "rendered by the node's renderer");

    let mut client = http1(server.addr).await;
    let bad_key = http::Request::get("/ws/rooms/7/chat")
        .header("host", "x")
        .header("authorization", "Bearer ann")
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "not a key")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let res = client.send_request(bad_key).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let mut client = http1(server.addr).await;
    let old_version = http::Request::get("/ws/rooms/7/chat")
        .header("host", "x")
        .header("authorization", "Bearer ann")
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "8")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let res = client.send_request(old_version).await.unwrap();
    assert_eq!(res.status(), StatusCode::UPGRADE_REQUIRED);
    assert_eq!(res.headers()["sec-websocket-version"], "13");
    server.stop().await;
}

#[tokio::test]
async fn a_message_over_the_limit_closes_the_socket_with_1009() {
    let server = start(app(), |s| s).await;
    let mut socket = connect(server.addr, "/ws/rooms/7/chat", Some("ann"))
        .await
        .unwrap();
    socket.send(Message::text("x".repeat(4096))).await.unwrap();
    let next = tokio::time::timeout(BOUND, socket.next()).await.unwrap();
    match next {
        Some(Ok(Message::Close(frame))) => {
            assert_eq!(frame.unwrap().code, CloseCode::Size, "1009 Message Too Big");
        }
        other => panic!("expected a 1009 close frame, got {other:?}"),
    }
    server.stop().await;
}

/// Opens `path`, sends `frames` at once, waits until the handler has ended (`ended`), and only
/// then reads what the server sent: the close code of its close frame. A reset instead (the
/// server dropped the connection with input unread, and the kernel threw away what this side
/// had not read yet) fails.
async fn close_read_after_the_handler_ended(
    path: &str,
    frames: &[u8],
    ended: Arc<tokio::sync::Notify>,
) -> u16 {
    use tokio::io::AsyncWriteExt;
    let server = start(app(), |s| s).await;
    let mut stream = raw_socket(server.addr, path).await;
    stream.write_all(frames).await.unwrap();
    let code = close_code_after(&ended, &mut stream).await;
    server.stop().await;
    code
}

/// Waits until the handler has ended (`ended`), then reads all the server sent: the code of its
/// close frame. A reset instead fails.
async fn close_code_after(ended: &tokio::sync::Notify, stream: &mut TcpStream) -> u16 {
    use tokio::io::AsyncReadExt;
    tokio::time::timeout(BOUND, ended.notified())
        .await
        .expect("the handler ends");
    let mut answer = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut answer))
        .await
        .expect("the server has closed the socket")
        .expect("a close, not a reset");
    assert!(answer.len() >= 4 && answer[0] == 0x88, "{answer:?}");
    u16::from_be_bytes([answer[2], answer[3]])
}

/// A masked text frame of 8 KiB (a 16-bit length).
fn frame_of_8_kib() -> Vec<u8> {
    let mut frame = vec![0x81, 0x80 | 126, 0x20, 0x00, 0, 0, 0, 0];
    frame.extend(std::iter::repeat_n(b'x', 8 * 1024));
    frame
}

/// The rest of an oversized message still arrives after the server refused it. Had the server
/// closed the connection with those bytes unread, its kernel would send a reset, and the
/// client's kernel would throw away what it had not read yet — the close frame saying 1009
/// among it (a Python client saw "connection reset"). The server reads them first.
#[tokio::test]
async fn the_1009_close_reaches_a_client_that_reads_only_after_the_server_is_done() {
    let frame = frame_of_8_kib();
    let code = close_read_after_the_handler_ended("/ws/told/1009", &frame, ended("1009")).await;
    assert_eq!(code, 1009);
}

/// The same when the handler closes the socket while the client is still sending: two frames
/// at once, the handler reads the first and closes with most of the second unread.
#[tokio::test]
async fn a_close_reaches_a_client_that_was_still_sending() {
    let mut frames = client_frame(0x81, b"hi", true);
    frames.extend(frame_of_8_kib());
    let code = close_read_after_the_handler_ended("/ws/closer", &frames, ended("closer")).await;
    assert_eq!(code, 4000);
}

/// After a refusal the server reads what the client still sends only so long: a client that
/// neither closes nor stops sending does not keep the socket's task (at most 1 s and 64 KiB).
#[tokio::test]
async fn a_client_that_goes_on_sending_after_a_refusal_does_not_hold_the_socket() {
    use tokio::io::AsyncWriteExt;
    let server = start(app(), |s| s).await;
    let stream = raw_socket(server.addr, "/ws/told/flood").await;
    let (_, mut writer) = stream.into_split();
    let flood = tokio::spawn(async move {
        let _ = writer.write_all(&frame_of_8_kib()).await;
        // Until the server has gone: a write fails then.
        while writer.write_all(&[b'x'; 16 * 1024]).await.is_ok() {}
    });
    tokio::time::timeout(BOUND, ended("flood").notified())
        .await
        .expect("the handler ends while the client still sends");
    tokio::time::timeout(BOUND, flood)
        .await
        .expect("the server closes the connection under the flood")
        .unwrap();
    server.stop().await;
}

/// The server shuts down while a client is halfway through a frame, and the client sends the
/// rest once the `1001 Going Away` close has arrived (before reading it): the close is read,
/// not lost to a reset.
#[tokio::test]
async fn the_going_away_close_reaches_a_client_that_sends_after_it() {
    use tokio::io::AsyncWriteExt;
    let mut server = start(app(), |s| s).await;
    let mut stream = raw_socket(server.addr, "/ws/listener").await;
    let frame = frame_of_8_kib();
    stream.write_all(&frame[..4096]).await.unwrap();
    server.begin_shutdown();
    tokio::time::timeout(BOUND, stream.readable())
        .await
        .expect("the close frame arrives")
        .unwrap();
    // Refused once the server has gone without reading it: the read below says so.
    let _ = stream.write_all(&frame[4096..]).await;
    let code = close_code_after(&ended("listener"), &mut stream).await;
    assert_eq!(code, 1001);
    server.join().await;
}

/// Opens `path` by hand over a raw socket, for frames no client library sends.
async fn raw_socket(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ann\r\n\
         upgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-version: 13\r\n\
         sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        stream.read_exact(&mut byte).await.unwrap();
        answer.push(byte[0]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 101"), "{answer:?}");
    stream
}

/// A frame from the client: `first` is FIN, the reserved bits and the opcode; masked with a
/// zero key unless `masked` is false.
fn client_frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut frame = vec![first, payload.len() as u8 | if masked { 0x80 } else { 0 }];
    if masked {
        frame.extend_from_slice(&[0, 0, 0, 0]);
    }
    frame.extend_from_slice(payload);
    frame
}

#[tokio::test]
async fn a_client_that_breaks_the_protocol_gets_the_close_code_that_says_how() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(app(), |s| s).await;
    let cases: [(&str, Vec<u8>, u16); 6] = [
        ("unmasked", client_frame(0x81, b"hi", false), 1002),
        ("reserved bits", client_frame(0xc1, b"hi", true), 1002),
        ("reserved opcode", client_frame(0x83, b"hi", true), 1002),
        ("stray continuation", client_frame(0x80, b"hi", true), 1002),
        ("fragmented ping", client_frame(0x09, b"hi", true), 1002),
        (
            "text not UTF-8",
            client_frame(0x81, b"\xff\xfe", true),
            1007,
        ),
    ];
    for (what, frame, code) in cases {
        let mut stream = raw_socket(server.addr, "/ws/rooms/7/chat").await;
        stream.write_all(&frame).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(BOUND, stream.read_to_end(&mut answer))
            .await
            .expect("the server closes the socket")
            .unwrap();
        // A close frame, unmasked from the server: 0x88, the length, the code.
        assert!(answer.len() >= 4 && answer[0] == 0x88, "{what}: {answer:?}");
        let sent = u16::from_be_bytes([answer[2], answer[3]]);
        assert_eq!(sent, code, "{what}: {answer:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_graceful_shutdown_sends_close_frames_and_does_not_wait_for_ever() {
    let mut server = start(app(), |s| s.shutdown_timeout(Duration::from_millis(300))).await;
    let mut listening = connect(server.addr, "/ws/rooms/7/chat", Some("ann"))
        .await
        .unwrap();
    let mut deaf = connect(server.addr, "/ws/deaf", Some("bob")).await.unwrap();

    server.begin_shutdown();
    // A socket whose handler reads is told: 1001 Going Away.
    let closing = tokio::time::timeout(BOUND, listening.next()).await.unwrap();
    match closing {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away),
        other => panic!("expected a close frame, got {other:?}"),
    }
    // A socket whose handler never reads does not keep the server alive past the deadline.
    server.join().await;
    let after = tokio::time::timeout(BOUND, deaf.next()).await.unwrap();
    assert!(
        !matches!(after, Some(Ok(Message::Text(_)))),
        "the deaf socket ends with the server: {after:?}"
    );
}

/// A WebSocket is an open stream of its route from its `101` until its task ends; its request
/// was over at the `101` (feature `metrics`).
#[cfg(feature = "metrics")]
#[tokio::test]
async fn an_open_socket_is_counted_as_its_routes_stream_until_it_closes() {
    use kotori::metrics::{Instrument, Value};
    let app = app();
    let open = |app: &kotori::App<()>| {
        app.metrics()
            .observed()
            .into_iter()
            .filter(|(s, _)| {
                s.instrument == Instrument::OpenStreams
                    && s.label("http.route") == Some("/ws/rooms/{id}/chat")
                    && s.label("kotori.stream") == Some("websocket")
            })
            .map(|(_, v)| match v {
                Value::Gauge(n) => n,
                Value::Histogram(_) => unreachable!("a gauge"),
            })
            .sum::<i64>()
    };
    let server = start(app.clone(), |s| s).await;
    let mut socket = connect(server.addr, "/ws/rooms/7/chat", Some("ann"))
        .await
        .unwrap();
    socket.send(Message::text("hi")).await.unwrap();
    tokio::time::timeout(BOUND, socket.next()).await.unwrap();
    assert_eq!(open(&app), 1);
    socket.close(None).await.unwrap();
    // The server's task ends once the close handshake completes: wait for it (bounded).
    tokio::time::timeout(BOUND, async {
        while open(&app) != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the count closes with the socket");
    let upgraded = app
        .metrics()
        .observed()
        .into_iter()
        .find(|(s, _)| {
            s.label("http.route") == Some("/ws/rooms/{id}/chat")
                && s.label("http.response.status_code") == Some("101")
        })
        .and_then(|(_, v)| v.count());
    assert_eq!(upgraded, Some(1), "the request ended at its 101");
}
