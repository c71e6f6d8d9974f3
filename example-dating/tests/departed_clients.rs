//! A client that leaves mid-request does not cut the request in half: the root of the tree
//! runs every request to completion (docs/src/dating/decisions.md), over a real socket here.

mod common;

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::{TestApp, code};
use example_dating::auth::sms::SmsSender;
use example_dating::client;
use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};

/// A bound on how long any step of these tests may take: a hang fails, it does not stall CI.
const BOUND: Duration = Duration::from_secs(20);

const PHONE: &str = "18922986865";

/// An SMS gateway whose first send hangs until released, then fails; the next ones go out.
struct SlowThenFailingGateway {
    started: mpsc::UnboundedSender<()>,
    release: Arc<Notify>,
    failed_once: AtomicBool,
}

#[async_trait]
impl SmsSender for SlowThenFailingGateway {
    async fn send(&self, _: &str, _: &str) -> Result<(), String> {
        if self.failed_once.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.started.send(()).unwrap();
        self.release.notified().await;
        Err("the gateway timed out".into())
    }
}

/// The gateway fails a send whose client has gone: the send is given back all the same (the
/// phone's minute and the client's day, the code forgotten), so the phone may send again at
/// once. Cut at the gateway's await, the phone would wait out its minute for a code that
/// never came.
#[tokio::test]
async fn a_send_whose_client_left_is_given_back_when_the_gateway_fails() {
    let (started, mut gateway_called) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let gateway = Arc::new(SlowThenFailingGateway {
        started,
        release: Arc::clone(&release),
        failed_once: AtomicBool::new(false),
    });
    let store = Arc::new(example_dating::store::MemoryStore::new());
    let t = TestApp::with_sms(common::config(), "sqlite::memory:", store, gateway).await;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    // One connection at a time: a second connection is served only once the first has ended.
    let server = tokio::spawn(
        kotori::serve(listener, t.app.clone())
            .max_connections(1)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );

    let path = "/api/auth/sendsms";
    let params = [("phone".to_owned(), PHONE.to_owned())];
    let body = client::encode(&t.signer.sign(&Method::POST, path, &params, None));
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body.as_bytes()).await.unwrap();
    tokio::time::timeout(BOUND, gateway_called.recv())
        .await
        .expect("the send reaches the gateway")
        .unwrap();

    // The client leaves; the server lets its connection go (a second connection is served:
    // nothing of the first is left), and only then does the gateway answer.
    drop(socket);
    let mut second = TcpStream::connect(addr).await.unwrap();
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(BOUND, second.read_to_string(&mut answer))
        .await
        .expect("the server lets the departed client's connection go")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    release.notify_one();

    // The give-back runs after the gateway's answer, in the request's own task: wait for it.
    let sent_again = tokio::time::timeout(BOUND, async {
        loop {
            let res = t.call(Method::POST, path, &[("phone", PHONE)], None).await;
            match code(&res) {
                0 => return,
                42901 => tokio::task::yield_now().await,
                other => panic!("a send answered {other}"),
            }
        }
    })
    .await;
    assert!(
        sent_again.is_ok(),
        "the failed send was never given back: the phone's minute is still taken"
    );
    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}
