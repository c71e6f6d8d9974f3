//! A client that leaves mid-request: by default its handler is dropped at its next await;
//! under `run_to_completion(true)` the handler finishes all the same, and a graceful shutdown
//! waits for it (over real sockets).

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kotori::{Kotori, State};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};

/// A bound on how long any step of these tests may take: a hang fails, it does not stall CI.
const BOUND: Duration = Duration::from_secs(20);

/// The servers' shutdown deadline, kotori's default: past the bound, never reached by a test
/// that passes.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, PartialEq)]
enum Seen {
    Started,
    Finished,
    Dropped,
}

#[derive(Clone)]
struct Gate {
    seen: mpsc::UnboundedSender<Seen>,
    release: Arc<Notify>,
}

/// Tells `Dropped` unless the handler got past its await.
struct Watch(Option<mpsc::UnboundedSender<Seen>>);

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(seen) = self.0.take() {
            let _ = seen.send(Seen::Dropped);
        }
    }
}

async fn held(State(gate): State<Gate>) -> &'static str {
    let mut watch = Watch(Some(gate.seen.clone()));
    gate.seen.send(Seen::Started).unwrap();
    gate.release.notified().await;
    watch.0.take();
    gate.seen.send(Seen::Finished).unwrap();
    "finished"
}

/// The same handler three times: by default (`/held`), under a node that runs its requests
/// to completion (`/kept/held`) and under a child of it that turns that off again
/// (`/kept/not/held`); and `/ping`, which answers at once.
fn app(gate: Gate) -> kotori::App<Gate> {
    let app = Kotori::new(gate);
    app.post("/held", held);
    app.get("/ping", || async { "pong" });
    let kept = app.node("/kept").run_to_completion(true);
    kept.post("/held", held);
    kept.node("/not")
        .run_to_completion(false)
        .post("/held", held);
    app.build().unwrap()
}

/// Serves [`app`], one connection at a time: a second connection is served only once the
/// first has ended, which is how a test knows that the server let a departed client's
/// connection (and whatever its task owned) go. The sender stops the server, which waits at
/// most `deadline` for what is in flight.
async fn start(
    gate: Gate,
    deadline: Duration,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let app = app(gate);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        kotori::serve(listener, app)
            .max_connections(1)
            .shutdown_timeout(deadline)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    (addr, stop, server)
}

/// What the handler says next.
async fn next(saw: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(BOUND, saw.recv())
        .await
        .expect("the handler says what it did")
        .unwrap()
}

/// Sends a request to `path`, waits until its handler runs, closes the connection, and waits
/// until the server has let the connection go: a second connection is answered.
async fn leave(addr: SocketAddr, path: &str, saw: &mut mpsc::UnboundedReceiver<Seen>) {
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(
            format!("POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(next(saw).await, Seen::Started);
    drop(client);
    let mut second = TcpStream::connect(addr).await.unwrap();
    second
        .write_all(b"GET /ping HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(BOUND, second.read_to_string(&mut answer))
        .await
        .expect("the second connection is served once the first has ended")
        .unwrap();
    assert!(answer.ends_with("pong"), "{answer}");
}

/// A gate, and what its handler says.
fn gate() -> (Gate, mpsc::UnboundedReceiver<Seen>, Arc<Notify>) {
    let (seen, saw) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let gate = Gate {
        seen,
        release: Arc::clone(&release),
    };
    (gate, saw, release)
}

/// A client leaves mid-request to `path`; once the server has let its connection go, the
/// handler is released. Answers what became of it, then stops the server.
async fn leave_mid_request(path: &str) -> Seen {
    let (gate, mut saw, release) = gate();
    let (addr, stop, server) = start(gate, SHUTDOWN_DEADLINE).await;
    leave(addr, path, &mut saw).await;
    release.notify_one();
    let seen = next(&mut saw).await;
    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
    seen
}

#[tokio::test]
async fn by_default_a_departed_clients_handler_is_dropped_at_its_await() {
    assert_eq!(leave_mid_request("/held").await, Seen::Dropped);
}

#[tokio::test]
async fn under_run_to_completion_a_departed_clients_handler_finishes() {
    assert_eq!(leave_mid_request("/kept/held").await, Seen::Finished);
}

#[tokio::test]
async fn a_child_node_may_turn_run_to_completion_off() {
    assert_eq!(leave_mid_request("/kept/not/held").await, Seen::Dropped);
}

/// Notified when the server logs that its shutdown waits for requests whose clients left.
fn shutdown_waits() -> &'static Notify {
    use tracing_subscriber::layer::SubscriberExt;

    /// Passes that one log line on.
    struct Forward;
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Forward {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            struct Message(String);
            impl tracing::field::Visit for Message {
                fn record_debug(
                    &mut self,
                    field: &tracing::field::Field,
                    value: &dyn std::fmt::Debug,
                ) {
                    if field.name() == "message" {
                        self.0 = format!("{value:?}");
                    }
                }
            }
            let mut message = Message(String::new());
            event.record(&mut message);
            if message
                .0
                .starts_with("waiting for requests whose clients left")
            {
                WAITING.notify_one();
            }
        }
    }

    static WAITING: Notify = Notify::const_new();
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Forward))
            .unwrap();
    });
    &WAITING
}

/// A graceful shutdown begun while a departed client's request still runs (to completion)
/// returns only once that request has finished: a deploy does not cut it.
#[tokio::test]
async fn a_graceful_shutdown_waits_for_a_departed_clients_request() {
    let waiting = shutdown_waits();
    let (gate, mut saw, release) = gate();
    let (addr, stop, mut server) = start(gate, SHUTDOWN_DEADLINE).await;
    leave(addr, "/kept/held", &mut saw).await;
    stop.send(()).unwrap();
    tokio::select! {
        () = waiting.notified() => {}
        stopped = &mut server => {
            panic!("serve returned ({stopped:?}) while a departed client's request still ran")
        }
    }
    assert!(saw.try_recv().is_err(), "the handler still waits");
    release.notify_one();
    tokio::time::timeout(BOUND, &mut server)
        .await
        .expect("the server stops once the request has finished")
        .unwrap()
        .unwrap();
    assert_eq!(
        saw.try_recv(),
        Ok(Seen::Finished),
        "the request finished before serve returned"
    );
}

/// A departed client's request that does not finish does not hold the server past its
/// shutdown deadline: `serve` returns at the deadline, the request still running.
#[tokio::test]
async fn a_graceful_shutdown_stops_waiting_at_its_deadline() {
    let (gate, mut saw, _release) = gate();
    let (addr, stop, server) = start(gate, Duration::from_millis(100)).await;
    leave(addr, "/kept/held", &mut saw).await;
    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, server)
        .await
        .expect("serve returns at its shutdown deadline")
        .unwrap()
        .unwrap();
    assert!(
        saw.try_recv().is_err(),
        "the handler never got past its gate"
    );
}

#[tokio::test]
async fn a_request_run_to_completion_is_answered_as_usual() {
    let (seen, mut saw) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let app = app(Gate {
        seen,
        release: Arc::clone(&release),
    });
    let client = app.client();
    let handler = async {
        assert_eq!(saw.recv().await, Some(Seen::Started));
        release.notify_one();
        assert_eq!(saw.recv().await, Some(Seen::Finished));
    };
    let (res, ()) = tokio::join!(client.post("/kept/held").send(), handler);
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "finished");
}

/// Dropped unfinished where there is no tokio runtime to finish it on (a dispatch driven by
/// hand), the rest of a request run to completion is dropped like any other, without a panic.
#[test]
fn without_a_runtime_a_dropped_request_is_dropped() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let (seen, mut saw) = mpsc::unbounded_channel();
    let app = app(Gate {
        seen,
        release: Arc::new(Notify::new()),
    });
    let req = http::Request::post("/kept/held")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let mut dispatch = Box::pin(app.dispatch(req));
    let polled = dispatch
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()));
    assert!(polled.is_pending(), "the handler waits for its gate");
    assert_eq!(saw.try_recv(), Ok(Seen::Started));
    drop(dispatch);
    assert_eq!(saw.try_recv(), Ok(Seen::Dropped));
}
