//! A client that leaves mid-request: by default its handler is dropped at its next await;
//! under `run_to_completion(true)` the handler finishes all the same (over real sockets).

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kotori::{Kotori, State};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};

/// A bound on how long any step of these tests may take: a hang fails, it does not stall CI.
const BOUND: Duration = Duration::from_secs(20);

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
/// (`/kept/not/held`).
fn app(gate: Gate) -> kotori::App<Gate> {
    let app = Kotori::new(gate);
    app.post("/held", held);
    let kept = app.node("/kept").run_to_completion(true);
    kept.post("/held", held);
    kept.node("/not")
        .run_to_completion(false)
        .post("/held", held);
    app.build().unwrap()
}

/// Serves [`app`]; the sender stops the server.
async fn start(
    gate: Gate,
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
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    (addr, stop, server)
}

/// Sends a request to `path`, waits until its handler runs, closes the connection,
/// and waits until the server has let the connection go (a graceful shutdown that finishes:
/// the connection, and whatever it owned, is gone). Then releases the handler and answers
/// what became of it.
async fn leave_mid_request(path: &str) -> Seen {
    let (seen, mut saw) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let gate = Gate {
        seen,
        release: Arc::clone(&release),
    };
    let (addr, stop, server) = start(gate).await;

    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(
            format!("POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let next = async |saw: &mut mpsc::UnboundedReceiver<Seen>| {
        tokio::time::timeout(BOUND, saw.recv())
            .await
            .expect("the handler says what it did")
            .unwrap()
    };
    assert_eq!(next(&mut saw).await, Seen::Started);
    drop(client);
    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, server)
        .await
        .expect("the server lets the departed client's connection go")
        .unwrap()
        .unwrap();
    release.notify_one();
    next(&mut saw).await
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
