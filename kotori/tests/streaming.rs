//! Streamed bodies and Server-Sent Events over real sockets.

mod net;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::StatusCode;
use http_body_util::BodyExt;
use kotori::sse::{Event, Sse};
use kotori::{Body, Kotori, Response};
use net::{BOUND, get, http1, start, text};
use tokio::sync::{mpsc, oneshot};

fn rows() -> Response {
    let rows =
        stream::iter((1..=3).map(|i| Ok::<_, Infallible>(Bytes::from(format!("row {i}\n")))));
    Response::new(Body::from_stream(rows))
}

/// A body that sends one chunk, then fails once the test says so (the head has arrived).
fn broken(fail: oneshot::Receiver<()>) -> Response {
    let first = stream::once(async { Ok(Bytes::from_static(b"first part")) });
    let failure = stream::once(async move {
        let _ = fail.await;
        Err(std::io::Error::other("the disk went away"))
    });
    Response::new(Body::from_stream(first.chain(failure)))
}

#[tokio::test]
async fn a_streamed_body_arrives_whole_and_a_full_body_stays_one_buffer() {
    let app = Kotori::new(());
    app.get("/export", || async { rows() });
    app.get("/hello", || async { "hello" });
    let app = app.build().unwrap();
    let server = start(app.clone(), |s| s).await;
    let mut client = http1(server.addr).await;

    let res = client.send_request(get("/export")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers().get("content-length").is_none(),
        "sent as it is produced"
    );
    assert_eq!(text(res).await, "row 1\nrow 2\nrow 3\n");

    let res = client.send_request(get("/hello")).await.unwrap();
    assert_eq!(res.headers()["content-length"], "5");
    assert_eq!(text(res).await, "hello");

    // In process, the full body is still one buffer.
    let res = app.dispatch(get("/hello")).await;
    assert!(res.body().is_full());
    server.stop().await;
}

#[tokio::test]
async fn a_stream_that_fails_mid_way_closes_the_connection_instead_of_ending_the_body() {
    let (fail, failed) = oneshot::channel();
    let failed = std::sync::Mutex::new(Some(failed));
    let app = Kotori::new(());
    app.get("/broken", move || {
        let failed = failed.lock().unwrap().take().expect("one request");
        async move { broken(failed) }
    });
    let server = start(app.build().unwrap(), |s| s).await;
    let mut client = http1(server.addr).await;
    let res = client.send_request(get("/broken")).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the head went out before the failure"
    );
    let mut body = res.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "first part");
    fail.send(()).unwrap();
    let rest = tokio::time::timeout(BOUND, body.collect())
        .await
        .expect("the body ends one way or another");
    assert!(rest.is_err(), "a cut-off body must not read as complete");
    // The connection is gone: it is not reused for another request.
    assert!(client.send_request(get("/broken")).await.is_err() || client.is_closed());
    server.stop().await;
}

#[tokio::test]
async fn server_sent_events_are_framed_with_headers_that_stop_proxy_buffering() {
    let app = Kotori::new(());
    app.get("/events", || async {
        let events = stream::iter(vec![
            Ok::<_, Infallible>(Event::default().id("1").event("message").data("hello")),
            Ok(Event::default()
                .data("two\nlines")
                .retry(Duration::from_secs(3))),
            Ok(Event::default().json_data(&serde_json::json!({"a": 1}))),
        ]);
        Sse::new(events)
    });
    let server = start(app.build().unwrap(), |s| s).await;
    let mut client = http1(server.addr).await;
    let res = client.send_request(get("/events")).await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.headers()["x-accel-buffering"], "no");
    assert_eq!(
        text(res).await,
        "id: 1\nevent: message\ndata: hello\n\n\
         data: two\ndata: lines\nretry: 3000\n\n\
         data: {\"a\":1}\n\n"
    );
    server.stop().await;
}

/// Sends `()` when dropped: tells the test the server let go of the stream.
struct DropSignal(Option<oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

#[tokio::test]
async fn keep_alive_comments_flow_while_idle_and_the_stream_is_dropped_when_the_client_goes() {
    let (dropped_tx, dropped) = oneshot::channel();
    let (events_tx, events_rx) = mpsc::unbounded_channel::<Event>();
    let app = Kotori::new(());
    let slot = std::sync::Mutex::new(Some((dropped_tx, events_rx)));
    let slot = std::sync::Arc::new(slot);
    app.get("/live", move || {
        let (dropped_tx, rx) = slot.lock().unwrap().take().expect("one client");
        async move {
            let guard = DropSignal(Some(dropped_tx));
            let events = stream::unfold((rx, guard), |(mut rx, guard)| async move {
                let event = rx.recv().await?;
                Some((Ok::<_, Infallible>(event), (rx, guard)))
            });
            Sse::new(events).keep_alive(Duration::from_millis(20))
        }
    });
    let server = start(app.build().unwrap(), |s| s).await;
    let mut client = http1(server.addr).await;
    let res = client.send_request(get("/live")).await.unwrap();
    let mut body = res.into_body();

    events_tx.send(Event::default().data("first")).unwrap();
    let mut seen = String::new();
    // Read until the event and then two keep-alive comments have arrived: nothing is sent
    // in between, so the comments prove the interval works.
    tokio::time::timeout(BOUND, async {
        while !(seen.contains("data: first\n\n") && seen.matches(":\n\n").count() >= 2) {
            let frame = body.frame().await.expect("the stream stays open").unwrap();
            if let Ok(data) = frame.into_data() {
                seen.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    })
    .await
    .expect("events and keep-alives arrive");
    assert!(seen.starts_with("data: first\n\n"), "{seen}");

    // The client goes away: the server drops the body, and the stream with it.
    drop(body);
    drop(client);
    tokio::time::timeout(BOUND, dropped)
        .await
        .expect("the stream is dropped once the client is gone")
        .unwrap();
    server.stop().await;
}

/// A graceful shutdown ends an open event stream after what it sent (the client's
/// `EventSource` reconnects, to an instance that stays): the server stops without waiting out
/// its shutdown deadline for a stream that has no end of its own. Over HTTP/1 and HTTP/2.
#[tokio::test]
async fn a_graceful_shutdown_ends_an_open_event_stream() {
    for http2 in [false, true] {
        let app = Kotori::new(());
        app.get("/forever", || async {
            let first = stream::once(async { Ok::<_, Infallible>(Event::default().data("first")) });
            Sse::new(first.chain(stream::pending()))
        });
        // A deadline far past the test's bound: only the stream's end lets the server stop
        // in time.
        let mut server = start(app.build().unwrap(), |s| {
            s.shutdown_timeout(Duration::from_secs(3600))
        })
        .await;
        let res = if http2 {
            let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http2::handshake(
                hyper_util::rt::TokioExecutor::new(),
                hyper_util::rt::TokioIo::new(tcp),
            )
            .await
            .unwrap();
            tokio::spawn(conn);
            let uri = format!("http://{}/forever", server.addr);
            let req = http::Request::get(uri)
                .body(http_body_util::Full::new(Bytes::new()))
                .unwrap();
            sender.send_request(req).await.unwrap()
        } else {
            http1(server.addr)
                .await
                .send_request(get("/forever"))
                .await
                .unwrap()
        };
        let mut body = res.into_body();
        let first = tokio::time::timeout(BOUND, body.frame())
            .await
            .expect("the first event arrives")
            .unwrap()
            .unwrap();
        assert_eq!(first.into_data().unwrap(), "data: first\n\n");

        server.begin_shutdown();
        let rest = tokio::time::timeout(BOUND, body.collect())
            .await
            .unwrap_or_else(|_| panic!("the stream ends when the shutdown begins (h2: {http2})"))
            .expect("a clean end, not a cut connection");
        assert!(rest.to_bytes().is_empty());
        server.join().await;
    }
}

#[test]
#[should_panic(expected = "one line")]
fn an_event_id_with_a_line_break_is_refused() {
    let _ = Event::default().id("1\ndata: forged");
}
