//! Serving an [`App`] on hyper: HTTP/1.1 and HTTP/2, keep-alive, graceful shutdown, and the
//! limits that keep a hostile client from holding the server.
//!
//! Each limit answers an attack tried on a running server: a client that connects and never
//! sends a byte, one that trickles a body, one that stops reading what it is sent, a flood of
//! connections, descriptors running out, an upload that keeps a shutting-down server alive.

use std::convert::Infallible;
use std::future::{Future, IntoFuture, Pending, pending};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::App;
use crate::head_limit::{HeadLimit, HeadRefusal, HeadWatch};
use crate::limits::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_HEADER_BYTES, DEFAULT_SHUTDOWN_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
};
use crate::write_deadline::WriteDeadline;

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
        shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        write_timeout: DEFAULT_WRITE_TIMEOUT,
        max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        max_connections: None,
        #[cfg(feature = "tls")]
        tls: None,
    }
}

/// A server being configured; see [`serve()`].
pub struct Serve<S, F> {
    listener: TcpListener,
    app: App<S>,
    signal: F,
    header_read_timeout: Duration,
    shutdown_timeout: Duration,
    write_timeout: Duration,
    max_header_bytes: usize,
    max_connections: Option<usize>,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
}

/// Tells upgraded connections (WebSockets) when the server shuts down, and by when they must
/// be gone. Each open socket holds a clone: the server knows they are all closed when the
/// channel is.
#[derive(Clone)]
#[cfg_attr(not(feature = "ws"), allow(dead_code))]
pub(crate) struct ShutdownSignal(pub(crate) watch::Receiver<Option<tokio::time::Instant>>);

impl ShutdownSignal {
    /// Completes once a graceful shutdown has begun (or the server is gone).
    async fn begun(&self) {
        let _ = self.0.clone().wait_for(Option::is_some).await;
    }
}

impl<S, F> Serve<S, F> {
    /// Stops accepting connections when `signal` completes, lets in-flight requests finish
    /// (within [`shutdown_timeout`](Serve::shutdown_timeout)), closes idle connections and
    /// open WebSockets, then returns.
    pub fn with_graceful_shutdown<G>(self, signal: G) -> Serve<S, G>
    where
        G: Future<Output = ()> + Send + 'static,
    {
        Serve {
            listener: self.listener,
            app: self.app,
            signal,
            header_read_timeout: self.header_read_timeout,
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
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a graceful shutdown waits for in-flight requests and open sockets before it
    /// closes what remains. Default 30 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How long a write may wait for the client to take a byte before the connection is
    /// closed: a client that stops reading a response, a stream (SSE) or a WebSocket cannot
    /// hold it, its task and its buffers. Writes that progress, however slowly, are not cut.
    /// Default 30 s.
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
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes.max(1024);
        self
    }

    /// At most `n` connections open at once; beyond, new ones wait in the listener's backlog
    /// until one closes. Unlimited by default.
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

/// What every connection task shares.
struct Shared<S> {
    app: App<S>,
    builder: auto::Builder<TokioExecutor>,
    header_read_timeout: Duration,
    write_timeout: Duration,
    max_header_bytes: usize,
    shutdown: ShutdownSignal,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
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
    drop(shared);
    let drained = async {
        graceful.shutdown().await;
        // Open sockets close themselves on the signal; the channel closes with the last one
        // (and with the last connection task, which holds the shared state).
        stopping.closed().await;
    };
    if tokio::time::timeout_at(deadline, drained).await.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "the shutdown deadline passed; closing the remaining connections"
        );
    }
    connections.shutdown().await;
    Ok(())
}

/// One connection: wait (bounded) for its first byte, the TLS handshake if any, then HTTP.
async fn connection<S>(
    shared: Arc<Shared<S>>,
    watcher: hyper_util::server::graceful::Watcher,
    stream: TcpStream,
    peer: std::net::SocketAddr,
) where
    S: Clone + Send + Sync + 'static,
{
    // hyper's header timer starts at the first byte: a client that never sends one would hold
    // the descriptor for ever. Nor may it hold a shutdown: it has nothing in flight.
    let mut first = [0u8; 1];
    let spoke = tokio::time::timeout(shared.header_read_timeout, stream.peek(&mut first));
    tokio::select! {
        spoke = spoke => match spoke {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        },
        () = shared.shutdown.begun() => return,
    }
    // Under TLS too: the encrypted stream writes through it.
    let stream = WriteDeadline::new(stream, shared.write_timeout);
    let watch = Arc::new(HeadWatch::default());
    let service = {
        let shared = Arc::clone(&shared);
        let watch = Arc::clone(&watch);
        service_fn(move |mut req: hyper::Request<Incoming>| {
            let shared = Arc::clone(&shared);
            let watch = Arc::clone(&watch);
            // Only an upgrade can outlive its request: only it learns of the shutdown.
            if req.headers().contains_key(http::header::UPGRADE) {
                req.extensions_mut().insert(shared.shutdown.clone());
            }
            async move { Ok::<_, Infallible>(respond(&shared, &watch, req, peer).await) }
        })
    };
    #[cfg(feature = "tls")]
    if let Some(tls) = &shared.tls {
        let handshake = tokio::time::timeout(shared.header_read_timeout, tls.accept(stream));
        let handshake = tokio::select! {
            handshake = handshake => handshake,
            () = shared.shutdown.begun() => return,
        };
        let stream = match handshake {
            Ok(Ok(stream)) => HeadLimit::new(stream, shared.max_header_bytes, watch),
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => return,
        };
        let connection = shared
            .builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service);
        if let Err(e) = watcher.watch(connection.into_owned()).await {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
        return;
    }
    let stream = HeadLimit::new(stream, shared.max_header_bytes, watch);
    let connection = shared
        .builder
        .serve_connection_with_upgrades(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(connection.into_owned()).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// hyper's default read buffer limit for HTTP/1 (8 KiB + 100 × 4 KiB), kept unless kotori's
/// own limit asks for more room.
const HYPER_BUF_SIZE: usize = 8192 + 4096 * 100;

/// hyper's limit on a decoded HTTP/2 header list, kept above kotori's so that kotori refuses
/// first (and renders the refusal).
fn h2_header_backstop(max_header_bytes: usize) -> u32 {
    u32::try_from(max_header_bytes.saturating_mul(4).max(64 * 1024)).unwrap_or(u32::MAX)
}

/// One request: refused by its head, or dispatched through the tree.
async fn respond<S>(
    shared: &Shared<S>,
    watch: &HeadWatch,
    req: hyper::Request<Incoming>,
    peer: std::net::SocketAddr,
) -> crate::Response
where
    S: Clone + Send + Sync + 'static,
{
    let http2 = req.version() == http::Version::HTTP_2;
    // HTTP/1 requests come one at a time, in the order of their heads: this one's number.
    let head = if http2 { 0 } else { watch.dispatched() };
    let refusal = if http2 {
        (header_list_size(&req) > shared.max_header_bytes).then_some(HeadRefusal::TooLarge)
    } else {
        watch.take_refusal(head)
    };
    if let Some(refusal) = refusal {
        let mut res = shared.app.refuse_from(req, Some(peer), refusal.rejection());
        if !http2 {
            // The rest of the refused head was discarded, and its body with it.
            close(&mut res);
        }
        return res;
    }
    let mut res = shared.app.dispatch_from(req, Some(peer)).await;
    if !http2 && watch.unfollowed(head) && res.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        // Past a body whose end kotori does not follow (chunked), or a refused upgrade, a
        // next head would escape the limit: there is none on this connection.
        close(&mut res);
    }
    res
}

fn close(res: &mut crate::Response) {
    res.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
}

/// An HTTP/2 request's header list size as RFC 9113 §6.5.2 counts it: each field's name and
/// value plus 32, pseudo-headers included.
fn header_list_size<B>(req: &hyper::Request<B>) -> usize {
    let fields: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum();
    let pseudo = req.method().as_str().len()
        + req.uri().path_and_query().map_or(1, |p| p.as_str().len())
        + req.uri().scheme_str().map_or(0, str::len)
        + req.uri().authority().map_or(0, |a| a.as_str().len())
        + 4 * 32;
    fields + pseudo
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
