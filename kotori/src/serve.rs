//! Serving an [`App`] on hyper: HTTP/1.1 and HTTP/2, keep-alive, graceful shutdown.

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
use tokio::net::TcpListener;

use crate::App;
use crate::limits::DEFAULT_HEADER_READ_TIMEOUT;

/// Serves `app` on `listener` until the future is dropped or the shutdown signal fires.
///
/// Await it directly, or configure it first:
///
/// ```no_run
/// use kotori::Kotori;
///
/// # async fn run() -> std::io::Result<()> {
/// let app = Kotori::new(());
/// app.get("/", || async { "hello" });
/// let app = app.build().expect("a valid tree");
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// kotori::serve(listener, app)
///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.ok(); })
///     .await
/// # }
/// ```
pub fn serve<S>(listener: TcpListener, app: App<S>) -> Serve<S, Pending<()>> {
    Serve {
        listener,
        app: Arc::new(app),
        signal: pending(),
        header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
    }
}

/// A server being configured; see [`serve`].
pub struct Serve<S, F> {
    listener: TcpListener,
    app: Arc<App<S>>,
    signal: F,
    header_read_timeout: Duration,
}

impl<S, F> Serve<S, F> {
    /// Stops accepting connections when `signal` completes, lets in-flight requests finish,
    /// closes idle connections, then returns.
    pub fn with_graceful_shutdown<G>(self, signal: G) -> Serve<S, G>
    where
        G: Future<Output = ()> + Send + 'static,
    {
        Serve {
            listener: self.listener,
            app: self.app,
            signal,
            header_read_timeout: self.header_read_timeout,
        }
    }

    /// How long a client may take to send its request headers (HTTP/1); default 30 s.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
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
    let Serve {
        listener,
        app,
        signal,
        header_read_timeout,
    } = serve;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut signal = std::pin::pin!(signal);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: log, and keep serving those we have.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::task::yield_now().await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let app = Arc::clone(&app);
        let service = service_fn(move |req: hyper::Request<Incoming>| {
            let app = Arc::clone(&app);
            async move { Ok::<_, Infallible>(app.dispatch_from(req, Some(peer)).await) }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }

    // Stop accepting at once, then wait for the connections to finish what they started.
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
