//! Serving limits, each found by attacking a running server: silent connections, stalled
//! bodies, connection floods, and a shutdown held up by a trickling upload.

mod net;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use kotori::{Kotori, State};
use net::{BOUND, get, http1, start, text};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};

/// Reads until the server closes the connection (a reset counts as closed).
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(BOUND, stream.read_to_end(&mut buf))
        .await
        .expect("the server closes the connection");
    buf
}

#[tokio::test]
async fn a_connection_that_never_sends_a_byte_is_closed_after_the_header_timeout() {
    let app = Kotori::new(());
    app.get("/hello", || async { "hello" });
    let server = start(app.build().unwrap(), |s| {
        s.header_read_timeout(Duration::from_millis(100))
    })
    .await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    assert!(read_until_closed(&mut silent).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_stalls_gets_a_rendered_408_and_the_connection_closes() {
    let app = Kotori::new(());
    app.node("/upload")
        .body_timeout(Duration::from_millis(100))
        .post(
            "/x.json",
            |body: Bytes| async move { body.len().to_string() },
        );
    let server = start(app.build().unwrap(), |s| s).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /upload/x.json HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello")
        .await
        .unwrap();
    let answer = String::from_utf8(read_until_closed(&mut stream).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#""code":40801"#),
        "rendered by the renderer: {answer}"
    );
    assert!(answer.contains("within 0.1 s"), "says what to do: {answer}");
    server.stop().await;
}

#[derive(Clone)]
struct Gate {
    started: mpsc::UnboundedSender<()>,
    release: Arc<Notify>,
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_wait_until_one_closes() {
    let (started, mut started_rx) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let app = Kotori::new(Gate {
        started,
        release: Arc::clone(&release),
    });
    app.get("/slow", |State(gate): State<Gate>| async move {
        gate.started.send(()).unwrap();
        gate.release.notified().await;
        "slow"
    });
    app.get("/hello", || async { "hello" });
    let server = start(app.build().unwrap(), |s| s.max_connections(1)).await;

    let mut first = http1(server.addr).await;
    let held = tokio::spawn(async move {
        let res = first.send_request(get("/slow")).await.unwrap();
        text(res).await
    });
    tokio::time::timeout(BOUND, started_rx.recv())
        .await
        .unwrap();

    // The second connection is not taken while the first is open.
    let second = tokio::spawn(async move {
        let mut client = http1(server.addr).await;
        let res = client.send_request(get("/hello")).await.unwrap();
        (text(res).await, server)
    });
    let early = tokio::time::timeout(Duration::from_millis(200), async {
        while !second.is_finished() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(
        early.is_err(),
        "the capped server served a second connection"
    );

    release.notify_one();
    assert_eq!(held.await.unwrap(), "slow");
    let (hello, server) = tokio::time::timeout(BOUND, second).await.unwrap().unwrap();
    assert_eq!(hello, "hello");
    server.stop().await;
}

#[tokio::test]
async fn a_trickling_upload_does_not_hold_the_shutdown_past_its_deadline() {
    let app = Kotori::new(());
    app.post(
        "/upload",
        |body: Bytes| async move { body.len().to_string() },
    );
    let mut server = start(app.build().unwrap(), |s| {
        s.shutdown_timeout(Duration::from_millis(200))
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
        .await
        .unwrap();
    // The request is in flight (its body stalls within the default body timeout of 30 s).
    let mut client = http1(server.addr).await;
    let res = client.send_request(get("/nothing")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    server.begin_shutdown();
    server.join().await;
    // The upload's connection was closed by the deadline.
    let rest = read_until_closed(&mut stream).await;
    assert!(!String::from_utf8_lossy(&rest).contains("200 OK"));
}
