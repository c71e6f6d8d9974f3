//! Serving an [`App`] on hyper: HTTP/1.1 and HTTP/2, keep-alive, graceful shutdown, and the
//! limits that keep a hostile client from holding the server.
//!
//! Each limit answers an attack tried on a running server: a client that connects and never
//! sends a byte, one that trickles a body, one that stops reading what it is sent, a flood of
//! connections, descriptors running out, an upload that keeps a shutting-down server alive.

use std::future::{Future, IntoFuture, Pending, pending};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::App;
use crate::limits::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_WRITE_TIMEOUT,
};

mod connection;
mod host;
mod idle;
mod shutdown;
use connection::{Shared, connection};
pub(crate) use shutdown::ShutdownSignal;

/// Serves `app` on `listener` until the future is dropped or the shutdown signal fires.
///
/// Await it directly, or configure it first:
///
/// ```no_run
/// use std::time::Duration;
/// use kotori::Kotori;
///
/// # async fn run() -> std::io::Result<()> {
/// let app = Kotori::new(());
/// app.get("/", || async { "hello" });
/// let app = app.build().expect("a valid tree");
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// kotori::serve(listener, app)
///     .max_connections(10_000)
///     .shutdown_timeout(Duration::from_secs(10))
///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.ok(); })
///     .await
/// # }
/// ```
pub fn serve<S>(listener: TcpListener, app: App<S>) -> Serve<S, Pending<()>> {
    Serve {
        listener,
        app,
        signal: pending(),
        header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        idle_timeout: DEFAULT_IDLE_TIMEOUT,
        shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        write_timeout: DEFAULT_WRITE_TIMEOUT,
        max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        max_connections: None,
        #[cfg(feature = "tls")]
        tls: None,
    }
}

/// A server being configured; see [`serve()`].
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use kotori::Kotori;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let app = Kotori::new(());
/// app.get("/", || async { "hello" });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let addr = listener.local_addr().unwrap();
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let server = tokio::spawn(
///     kotori::serve(listener, app.build().unwrap())
///         .with_graceful_shutdown(async { stopped.await.ok(); })
///         .into_future(),
/// );
///
/// let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
/// client.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
/// let mut answer = String::new();
/// client.read_to_string(&mut answer).await.unwrap();
/// assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("hello"));
///
/// stop.send(()).unwrap();
/// server.await.unwrap().unwrap(); // returns once the shutdown is done
/// # });
/// ```
pub struct Serve<S, F> {
    listener: TcpListener,
    app: App<S>,
    signal: F,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    shutdown_timeout: Duration,
    write_timeout: Duration,
    max_header_bytes: usize,
    max_connections: Option<usize>,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl<S, F> Serve<S, F> {
    /// Stops accepting connections when `signal` completes, lets in-flight requests finish
    /// (within [`shutdown_timeout`](Serve::shutdown_timeout)), closes idle connections and
    /// open WebSockets, ends open event streams ([`sse`](crate::sse)) after their last event,
    /// waits for the requests whose clients left that run to completion
    /// ([`Node::run_to_completion`](crate::Node::run_to_completion)), then returns.
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// let app = kotori::Kotori::new(());
    /// app.get("/", || async { "hello" });
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// kotori::serve(listener, app.build().unwrap())
    ///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.ok(); })
    ///     .await // Ctrl-C: in-flight requests finish, then this returns
    /// # }
    /// ```
    pub fn with_graceful_shutdown<G>(self, signal: G) -> Serve<S, G>
    where
        G: Future<Output = ()> + Send + 'static,
    {
        Serve {
            listener: self.listener,
            app: self.app,
            signal,
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            shutdown_timeout: self.shutdown_timeout,
            write_timeout: self.write_timeout,
            max_header_bytes: self.max_header_bytes,
            max_connections: self.max_connections,
            #[cfg(feature = "tls")]
            tls: self.tls,
        }
    }

    /// How long a client may take, once connected, to send its request headers — the first
    /// byte included, so a connection that never sends anything is closed too (HTTP/1; the TLS
    /// handshake counts). Default 30 s.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use kotori::Kotori;
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let app = Kotori::new(());
    /// app.get("/", || async { "hello" });
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// kotori::serve(listener, app.build().unwrap())
    ///     .header_read_timeout(Duration::from_secs(10))
    ///     .await
    /// # }
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long an HTTP/2 connection may stay with no request open before it is closed (a
    /// `GOAWAY`, then the close). A request is open until its response is sent, a stream (SSE)
    /// included. An HTTP/1 connection between requests falls under
    /// [`header_read_timeout`](Serve::header_read_timeout) instead. Default 30 s.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use kotori::Kotori;
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let app = Kotori::new(());
    /// app.get("/", || async { "hello" });
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// kotori::serve(listener, app.build().unwrap())
    ///     .idle_timeout(Duration::from_secs(120))
    ///     .await
    /// # }
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long a graceful shutdown waits for in-flight requests (those whose clients left
    /// under `run_to_completion` included) and open sockets before it closes what remains.
    /// Default 30 s.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use kotori::Kotori;
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let app = Kotori::new(());
    /// app.get("/", || async { "hello" });
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// kotori::serve(listener, app.build().unwrap())
    ///     .shutdown_timeout(Duration::from_secs(10))
    ///     .await
    /// # }
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How long a write may wait for the client to take a byte before the connection is
    /// closed: a client that stops reading a response, a stream (SSE) or a WebSocket cannot
    /// hold it, its task and its buffers. Writes that progress, however slowly, are not cut.
    /// Default 30 s.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use kotori::Kotori;
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let app = Kotori::new(());
    /// app.get("/", || async { "hello" });
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// kotori::serve(listener, app.build().unwrap())
    ///     .write_timeout(Duration::from_secs(15))
    ///     .await
    /// # }
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// The largest request head — request line and headers, in bytes — before the request is
    /// refused with `431` (`414` when the request line alone is larger), rendered by the tree
    /// like any other refusal: the renderer of the node the path falls under, the root's after
    /// hooks (request id, access log). More than [`MAX_HEADERS`](crate::limits::MAX_HEADERS)
    /// headers is a `431` too, and a malformed request line a rendered `400`; the connection
    /// closes after such an answer. HTTP/2 headers are measured once decoded, against the same
    /// number. Default [`DEFAULT_MAX_HEADER_BYTES`] (16 KiB); at least 1 KiB.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use kotori::Kotori;
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let app = Kotori::new(());
    /// app.get("/", || async { "hello" });
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// kotori::serve(listener, app.build().unwrap())
    ///     .max_header_bytes(32 * 1024)
    ///     .await
    /// # }
    /// ```
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes.max(1024);
        self
    }

    /// At most `n` connections open at once; beyond, new ones wait in the listener's backlog
    /// until one closes. Unlimited by default.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use kotori::Kotori;
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let app = Kotori::new(());
    /// app.get("/", || async { "hello" });
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// kotori::serve(listener, app.build().unwrap())
    ///     .max_connections(10_000)
    ///     .await
    /// # }
    /// ```
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = Some(n.max(1));
        self
    }

    /// Serves HTTPS with `config` (rustls). ALPN offers HTTP/2 and HTTP/1.1 unless `config`
    /// sets its own protocols.
    ///
    /// ```no_run
    /// # async fn run(certs: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// #              key: rustls::pki_types::PrivateKeyDer<'static>) -> std::io::Result<()> {
    /// let config = rustls::ServerConfig::builder()
    ///     .with_no_client_auth()
    ///     .with_single_cert(certs, key)
    ///     .expect("a certificate and its key");
    /// let app = kotori::Kotori::new(());
    /// app.get("/", || async { "secure" });
    /// let listener = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
    /// kotori::serve(listener, app.build().unwrap()).tls(config).await
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, mut config: rustls::ServerConfig) -> Self {
        if config.alpn_protocols.is_empty() {
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        }
        self.tls = Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)));
        self
    }
}

impl<S, F> IntoFuture for Serve<S, F>
where
    S: Clone + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self))
    }
}

async fn run<S, F>(serve: Serve<S, F>) -> io::Result<()>
where
    S: Clone + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(serve.header_read_timeout)
        // A backstop only: kotori's own limit (`head_limit`) refuses larger heads first, and
        // renders the refusal; hyper's would be a bare status.
        .max_buf_size(HYPER_BUF_SIZE.max(serve.max_header_bytes.saturating_mul(2)))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(h2_header_backstop(serve.max_header_bytes));
    let (stopping, stopped) = watch::channel(None);
    let shared = Arc::new(Shared {
        app: serve.app,
        builder,
        header_read_timeout: serve.header_read_timeout,
        idle_timeout: serve.idle_timeout,
        write_timeout: serve.write_timeout,
        max_header_bytes: serve.max_header_bytes,
        shutdown: ShutdownSignal(stopped),
        #[cfg(feature = "tls")]
        tls: serve.tls,
    });
    let graceful = GracefulShutdown::new();
    let limit = serve.max_connections.map(|n| Arc::new(Semaphore::new(n)));
    let mut connections = JoinSet::new();
    let mut backoff = Backoff::default();
    let listener = serve.listener;
    let mut signal = std::pin::pin!(serve.signal);

    loop {
        // Reap finished connections, so the set holds only open ones.
        while connections.try_join_next().is_some() {}
        let permit = match &limit {
            None => None,
            Some(limit) => tokio::select! {
                permit = Arc::clone(limit).acquire_owned() => permit.ok(),
                () = &mut signal => break,
            },
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff.reset();
                    accepted
                }
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => {
                    // Out of descriptors or memory: retrying at once would spin a core and
                    // flood the log. Wait, longer each time, while connections close.
                    let wait = backoff.next();
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "accept failed; backing off");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => continue,
                        () = &mut signal => break,
                    }
                }
            },
            () = &mut signal => break,
        };
        // Responses go out as soon as they are written, not after Nagle's delay.
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let watcher = graceful.watcher();
        connections.spawn(async move {
            connection(shared, watcher, stream, peer).await;
            drop(permit);
        });
    }

    // Stop accepting at once, then let the connections finish what they started — within the
    // deadline, after which whatever remains is closed.
    drop(listener);
    let deadline = tokio::time::Instant::now() + serve.shutdown_timeout;
    let _ = stopping.send(Some(deadline));
    let rests = Arc::clone(&shared.app.0.rests);
    drop(shared);
    let drained = async {
        graceful.shutdown().await;
        // Open sockets close themselves on the signal; the channel closes with the last one
        // (and with the last connection task, which holds the shared state).
        stopping.closed().await;
        // Last, the requests whose clients left (`run_to_completion`): every connection has
        // ended, so none is handed off after this count.
        let running = rests.running();
        if running > 0 {
            tracing::info!(
                requests = running,
                "waiting for requests whose clients left to finish"
            );
            rests.finished().await;
        }
    };
    if tokio::time::timeout_at(deadline, drained).await.is_err() {
        tracing::warn!(
            connections = connections.len(),
            requests_whose_clients_left = rests.running(),
            "the shutdown deadline passed; closing the remaining connections"
        );
    }
    connections.shutdown().await;
    Ok(())
}

/// hyper's default read buffer limit for HTTP/1 (8 KiB + 100 × 4 KiB), kept unless kotori's
/// own limit asks for more room.
const HYPER_BUF_SIZE: usize = 8192 + 4096 * 100;

/// hyper's limit on a decoded HTTP/2 header list, kept above kotori's so that kotori refuses
/// first (and renders the refusal).
fn h2_header_backstop(max_header_bytes: usize) -> u32 {
    u32::try_from(max_header_bytes.saturating_mul(4).max(64 * 1024)).unwrap_or(u32::MAX)
}

/// Errors of one incoming connection (it was reset before we took it): nothing to back off
/// from.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

/// How long to wait after a failed accept: 10 ms, doubling to 1 s, reset by a success.
#[derive(Default)]
struct Backoff(Option<Duration>);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    fn next(&mut self) -> Duration {
        let wait = self.0.map_or(Self::FIRST, |w| (w * 2).min(Self::MAX));
        self.0 = Some(wait);
        wait
    }

    fn reset(&mut self) {
        self.0 = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_ceiling_and_resets() {
        let mut b = Backoff::default();
        let waits: Vec<u128> = (0..9).map(|_| b.next().as_millis()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.reset();
        assert_eq!(b.next().as_millis(), 10);
    }
}
