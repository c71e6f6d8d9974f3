//! One connection: its first byte (bounded), the TLS handshake if any, then HTTP — each
//! request refused by its head or dispatched through the tree — until it ends, the server
//! shuts down, or it idles (HTTP/2).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulConnection;
use tokio::net::TcpStream;

use super::idle::{Streams, Tracked, Verdict, Watch};
use super::shutdown::{ShutdownSignal, UntilShutdown};
use crate::App;
use crate::head_limit::{HeadLimit, HeadRefusal, HeadWatch};
use crate::sse::EndsAtShutdown;
use crate::write_deadline::WriteDeadline;

/// What every connection task shares.
pub(super) struct Shared<S> {
    pub(super) app: App<S>,
    pub(super) builder: auto::Builder<TokioExecutor>,
    pub(super) header_read_timeout: Duration,
    pub(super) idle_timeout: Duration,
    pub(super) write_timeout: Duration,
    pub(super) max_header_bytes: usize,
    pub(super) shutdown: ShutdownSignal,
    #[cfg(feature = "tls")]
    pub(super) tls: Option<tokio_rustls::TlsAcceptor>,
}

/// One connection: wait (bounded) for its first byte, the TLS handshake if any, then HTTP.
pub(super) async fn connection<S>(
    shared: Arc<Shared<S>>,
    // Held until the connection ends: a graceful shutdown waits for every watcher to go.
    _watcher: hyper_util::server::graceful::Watcher,
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
    let head = Arc::clone(&watch);
    let streams = Streams::new();
    let service = {
        let shared = Arc::clone(&shared);
        let watch = Arc::clone(&watch);
        let streams = Arc::clone(&streams);
        service_fn(move |mut req: hyper::Request<Incoming>| {
            let shared = Arc::clone(&shared);
            let watch = Arc::clone(&watch);
            // Only an upgrade can outlive its request: only it learns of the shutdown (an
            // endless stream's body does, below).
            if req.headers().contains_key(http::header::UPGRADE) {
                req.extensions_mut().insert(shared.shutdown.clone());
            }
            // An HTTP/2 stream is open until hyper drops its response body.
            let mut stream = (req.version() == http::Version::HTTP_2).then(|| streams.open());
            async move {
                let mut res = respond(&shared, &watch, req, peer).await;
                if res.extensions().get::<EndsAtShutdown>().is_some() {
                    res = res
                        .map(|body| crate::Body::wrap(UntilShutdown::new(body, &shared.shutdown)));
                }
                if let Some(stream) = &mut stream {
                    stream.answered();
                }
                Ok::<_, Infallible>(res.map(|body| Tracked { body, stream }))
            }
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
        drive(connection, &shared, &streams, &head, peer).await;
        return;
    }
    let stream = HeadLimit::new(stream, shared.max_header_bytes, watch);
    let connection = shared
        .builder
        .serve_connection_with_upgrades(TokioIo::new(stream), service);
    drive(connection, &shared, &streams, &head, peer).await;
}

/// Runs a connection to its end, shutting it down gracefully (in-flight requests finish, then
/// it closes) when the server's shutdown begins or when it is an idle HTTP/2 connection.
async fn drive<C, S>(
    connection: C,
    shared: &Shared<S>,
    streams: &Streams,
    head: &HeadWatch,
    peer: std::net::SocketAddr,
) where
    C: GracefulConnection,
    C::Error: std::fmt::Display,
{
    let mut connection = std::pin::pin!(connection);
    let mut watch = Watch::new(
        streams,
        || head.is_http2(),
        shared.idle_timeout,
        shared.write_timeout,
    );
    let mut closing = false;
    loop {
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = shared.shutdown.begun(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            verdict = watch.next() => match verdict {
                Verdict::Idle if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                // hyper's graceful HTTP/2 close waits for the client to answer a `PING`: one
                // that never does, still idle a timeout later, is closed outright.
                Verdict::Idle => {
                    tracing::debug!(%peer, "an idle HTTP/2 connection ignored its GOAWAY; closed");
                    return;
                }
                Verdict::Stalled => {
                    tracing::debug!(%peer, "an HTTP/2 client took no answer within the write timeout; closed");
                    return;
                }
            },
        }
    }
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
    if let Some(problem) = (!http2).then(|| super::host::problem(&req)).flatten() {
        let refusal = crate::Rejection::bad_request(problem);
        let mut res = shared.app.refuse_from(req, Some(peer), refusal);
        // Its body, if it has one, is not read: nothing after it on this connection is.
        close(&mut res);
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
