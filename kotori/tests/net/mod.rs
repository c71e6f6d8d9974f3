//! A server on a loopback port for the serving tests, and a plain HTTP/1 client.
#![allow(dead_code, unreachable_pub)]

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use kotori::{App, Serve};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A bound on how long any step of these tests may take: a hang fails, it does not stall CI.
pub const BOUND: Duration = Duration::from_secs(20);

pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves `app` on a fresh loopback port, configured by `configure`.
pub async fn start<S: Clone + Send + Sync + 'static>(
    app: App<S>,
    configure: impl FnOnce(Serve<S, std::future::Pending<()>>) -> Serve<S, std::future::Pending<()>>,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let serve = configure(kotori::serve(listener, app)).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let handle = tokio::spawn(serve.into_future());
    Server {
        addr,
        stop: Some(stop),
        handle,
    }
}

impl Server {
    /// Starts the graceful shutdown.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Shuts down and waits (bounded) for `serve` to return.
    pub async fn stop(mut self) {
        self.begin_shutdown();
        tokio::time::timeout(BOUND, self.handle)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }

    /// Whether `serve` has returned.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits (bounded) for `serve` to return after a shutdown began.
    pub async fn join(self) {
        tokio::time::timeout(BOUND, self.handle)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

pub fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

pub async fn http1(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

pub async fn text(res: http::Response<hyper::body::Incoming>) -> String {
    let body = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}
