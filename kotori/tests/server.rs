//! Serving over real sockets: HTTP/1.1 keep-alive, HTTP/2, the header-read timeout, and a
//! graceful shutdown that lets in-flight requests finish.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kotori::{Kotori, State};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};

/// A bound on how long any step of these tests may take: a hang fails, it does not stall CI.
const BOUND: Duration = Duration::from_secs(20);

#[derive(Clone)]
struct Gate {
    started: mpsc::UnboundedSender<()>,
    release: Arc<Notify>,
}

async fn start(
    gate: Gate,
    header_timeout: Duration,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let app = Kotori::new(gate);
    app.get("/hello", || async { "hello" });
    app.get("/slow", |State(gate): State<Gate>| async move {
        gate.started.send(()).unwrap();
        gate.release.notified().await;
        "finished"
    });
    let app = app.build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        kotori::serve(listener, app)
            .header_read_timeout(header_timeout)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    (addr, stop, server)
}

fn gate() -> (Gate, mpsc::UnboundedReceiver<()>) {
    let (started, rx) = mpsc::unbounded_channel();
    (
        Gate {
            started,
            release: Arc::new(Notify::new()),
        },
        rx,
    )
}

fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn http1(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

/// An HTTP/2 connection (prior knowledge) and its answer to `GET /hello`; the connection stays
/// open while the sender lives.
async fn h2_hello(
    addr: SocketAddr,
) -> (
    hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    http::Response<hyper::body::Incoming>,
) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let res = sender
        .send_request(
            Request::get(format!("http://{addr}/hello"))
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    (sender, res)
}

async fn text(res: http::Response<hyper::body::Incoming>) -> String {
    let body = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn http1_keeps_the_connection_alive_across_requests() {
    let (gate, _) = gate();
    let (addr, stop, server) = start(gate, Duration::from_secs(30)).await;
    let mut sender = http1(addr).await;
    for _ in 0..3 {
        let res = sender.send_request(get("/hello")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.version(), Version::HTTP_11);
        assert_eq!(text(res).await, "hello");
    }
    let res = sender.send_request(get("/nothing")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    drop(sender);
    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served() {
    let (gate, _) = gate();
    let (addr, stop, server) = start(gate, Duration::from_secs(30)).await;
    let (sender, res) = h2_hello(addr).await;
    assert_eq!(res.version(), Version::HTTP_2);
    assert_eq!(text(res).await, "hello");
    drop(sender);
    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn graceful_shutdown_lets_in_flight_requests_finish_then_stops_accepting() {
    let (gate, mut started) = gate();
    let release = Arc::clone(&gate.release);
    let (addr, stop, server) = start(gate, Duration::from_secs(30)).await;

    let mut sender = http1(addr).await;
    let in_flight = tokio::spawn(async move { sender.send_request(get("/slow")).await });
    tokio::time::timeout(BOUND, started.recv())
        .await
        .unwrap()
        .unwrap();

    // Shutdown begins while the request is in its handler: wait until the listener is
    // closed (new connections refused), with the handler still held.
    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, async {
        while let Ok(stream) = TcpStream::connect(addr).await {
            drop(stream);
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the listener closes on shutdown");
    assert!(
        !server.is_finished(),
        "the server waits for the in-flight request"
    );
    let server = tokio::spawn(async move { tokio::time::timeout(BOUND, server).await });
    release.notify_one();

    let res = tokio::time::timeout(BOUND, in_flight)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, "finished");
    server.await.unwrap().unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let (gate, _) = gate();
    let (addr, stop, server) = start(gate, Duration::from_millis(200)).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The server closes the connection (possibly after a 408): read to the end.
    let mut buf = Vec::new();
    // A reset is as good as a close; what must not happen is the connection staying open.
    let _ = tokio::time::timeout(BOUND, stream.read_to_end(&mut buf))
        .await
        .expect("the server closes the connection");
    let text = String::from_utf8_lossy(&buf);
    assert!(
        !text.contains("hello"),
        "the request was never served: {text}"
    );
    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// A graceful shutdown does not wait on connections that have nothing in flight: an HTTP/1
/// keep-alive connection after its response, an HTTP/2 connection with no stream, and one
/// that never sent a byte. The deadline (30 s) is past this test's bound: the server must
/// return because they were closed, not because it gave up on them.
#[tokio::test]
async fn a_graceful_shutdown_closes_idle_connections_at_once() {
    let (gate, _) = gate();
    let (addr, stop, server) = start(gate, Duration::from_secs(600)).await;

    let mut keep_alive = http1(addr).await;
    let res = keep_alive.send_request(get("/hello")).await.unwrap();
    assert_eq!(text(res).await, "hello");

    let (h2, res) = h2_hello(addr).await;
    assert_eq!(text(res).await, "hello");

    let mut silent = TcpStream::connect(addr).await.unwrap();

    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, server)
        .await
        .expect("the server returns before its deadline")
        .unwrap()
        .unwrap();
    // The silent connection was closed by the server, not left to the client.
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(BOUND, silent.read(&mut byte))
        .await
        .unwrap();
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    drop((keep_alive, h2));
}

/// Streamed answers the test holds open: each `GET /stream` takes the next receiver and sends
/// what arrives on it until its sender is dropped.
type Held = Arc<std::sync::Mutex<Vec<mpsc::UnboundedReceiver<Bytes>>>>;

async fn start_idle(idle: Duration) -> (SocketAddr, Held) {
    start_timed(idle, Duration::from_secs(30)).await
}

async fn start_timed(idle: Duration, write: Duration) -> (SocketAddr, Held) {
    let held = Held::default();
    let app = Kotori::new(Arc::clone(&held));
    app.get("/hello", || async { "hello" });
    app.get("/stream", |State(held): State<Held>| async move {
        let rx = held.lock().unwrap().pop().expect("a held stream");
        let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
            let chunk = rx.recv().await?;
            Some((Ok::<_, std::io::Error>(chunk), rx))
        });
        http::Response::new(kotori::Body::from_stream(chunks))
    });
    // Answers once the test sends something: a handler that takes its time.
    app.get("/late", |State(held): State<Held>| async move {
        let mut rx = held.lock().unwrap().pop().expect("a held answer");
        rx.recv().await.expect("an answer")
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = kotori::serve(listener, app.build().unwrap())
        .idle_timeout(idle)
        .write_timeout(write);
    tokio::spawn(served.into_future());
    (addr, held)
}

async fn h2(
    addr: SocketAddr,
) -> (
    hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    tokio::task::JoinHandle<hyper::Result<()>>,
) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    (sender, tokio::spawn(conn))
}

/// An HTTP/2 connection with no request open for the idle timeout is closed by the server; one
/// whose response is still streaming is not, however long it streams, and still takes new
/// requests. An HTTP/1 connection is left to hyper's own timer, which never cuts a response.
#[tokio::test]
async fn an_idle_http2_connection_is_closed_but_not_one_still_answering() {
    let (addr, held) = start_idle(Duration::from_millis(200)).await;
    let (tx2, rx2) = mpsc::unbounded_channel();
    let (tx1, rx1) = mpsc::unbounded_channel();
    held.lock().unwrap().extend([rx1, rx2]);

    // A streamed answer on each protocol, held open.
    let (mut sender, conn) = h2(addr).await;
    let streaming = sender.send_request(get("/stream")).await.unwrap();
    assert_eq!(streaming.version(), Version::HTTP_2);
    let mut old = http1(addr).await;
    let streaming1 = old.send_request(get("/stream")).await.unwrap();
    assert_eq!(streaming1.version(), Version::HTTP_11);

    // A witness: a connection idle from now, closed after the timeout. Once it is, the held
    // answers have been open longer than that.
    let (_witness, closed) = h2(addr).await;
    tokio::time::timeout(BOUND, closed)
        .await
        .expect("an idle HTTP/2 connection is closed")
        .unwrap()
        .unwrap();

    // The connection that is still answering takes a new request.
    let res = sender.send_request(get("/hello")).await.unwrap();
    assert_eq!(text(res).await, "hello");
    for (tx, res) in [(tx2, streaming), (tx1, streaming1)] {
        tx.send(Bytes::from_static(b"all ")).unwrap();
        tx.send(Bytes::from_static(b"there")).unwrap();
        drop(tx);
        assert_eq!(text(res).await, "all there");
    }

    // With nothing open any more, it is closed in turn.
    tokio::time::timeout(BOUND, conn)
        .await
        .expect("the connection is closed once idle")
        .unwrap()
        .unwrap();
}

/// A client that sends the HTTP/2 preface and then ignores everything — it never acknowledges
/// the `PING` that a graceful `GOAWAY` waits for — is still closed once idle.
#[tokio::test]
async fn an_idle_http2_client_that_never_answers_is_closed_all_the_same() {
    let (addr, _) = start_idle(Duration::from_millis(200)).await;
    let mut raw = TcpStream::connect(addr).await.unwrap();
    // The preface, then an empty SETTINGS frame; nothing more, ever.
    raw.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let end = tokio::time::timeout(BOUND, raw.read_to_end(&mut seen)).await;
    assert!(
        matches!(end, Ok(Ok(_)) | Ok(Err(_))),
        "the server closes the connection ({} bytes seen)",
        seen.len()
    );
}

/// An HTTP/2 client that never opens its flow-control window takes none of its answers: they
/// wait in the server's memory, and no socket write ever waits for the write deadline to see.
/// Such a connection is closed once no answer has moved for the write timeout — but not one
/// whose only open answer is a stream waiting for its next event.
#[tokio::test]
async fn an_http2_client_that_takes_none_of_its_answers_is_closed() {
    let (addr, held) = start_timed(Duration::from_secs(600), Duration::from_millis(200)).await;
    let (tx, rx) = mpsc::unbounded_channel();
    let (late_tx, late_rx) = mpsc::unbounded_channel();
    held.lock().unwrap().extend([late_rx, rx]);
    // A client that reads, with a stream open and quiet, and a handler still at work.
    let (mut reading, reading_conn) = h2(addr).await;
    let streaming = reading.send_request(get("/stream")).await.unwrap();
    let late = tokio::spawn(reading.send_request(get("/late")));
    while !held.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }

    // A client whose window stays shut: the head is not flow-controlled and arrives, the body
    // never can.
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut shut, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(0)
        .handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let res = shut.send_request(get("/hello")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    tokio::time::timeout(BOUND, conn)
        .await
        .expect("the server closes a connection whose client takes nothing")
        .unwrap()
        .ok();
    drop(res);

    // By then the quiet stream and the handler at work have been open longer than the write
    // timeout: their connection is still served.
    late_tx.send(Bytes::from_static(b"late")).unwrap();
    let res = tokio::time::timeout(BOUND, late)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(text(res).await, "late");
    let res = reading.send_request(get("/hello")).await.unwrap();
    assert_eq!(text(res).await, "hello");
    tx.send(Bytes::from_static(b"still here")).unwrap();
    drop(tx);
    assert_eq!(text(streaming).await, "still here");
    assert!(!reading_conn.is_finished());
}
