//! The numbers kotori enforces unless told otherwise.

use std::time::Duration;

/// Request bodies above this many bytes get a 413 unless a node sets its own
/// [`body_limit`](crate::Node::body_limit).
///
/// ```
/// use kotori::Kotori;
/// use kotori::limits::DEFAULT_BODY_LIMIT;
///
/// let app = Kotori::new(());
/// app.post("/form", |body: bytes::Bytes| async move { body.len().to_string() });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let res = app.client().post("/form").body(vec![0; DEFAULT_BODY_LIMIT + 1]).send().await;
/// assert_eq!(res.status(), 413);
/// # });
/// ```
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The most path parameters one route may have; more is a build error. Parameters are kept as
/// byte ranges in a fixed array of the request context, so reading them never allocates.
///
/// ```
/// use kotori::Kotori;
/// use kotori::limits::MAX_PARAMS;
///
/// let app = Kotori::new(());
/// let path: String = (0..=MAX_PARAMS).map(|i| format!("/{{p{i}}}")).collect();
/// app.get(&path, || async { "too deep" });
/// assert!(app.build().is_err()); // nine parameters: a build error, not a runtime surprise
/// ```
pub const MAX_PARAMS: usize = 8;

/// How long a client may take to send a request's headers before the connection is closed
/// (see [`Serve::header_read_timeout`](crate::Serve::header_read_timeout)).
///
/// ```
/// use kotori::limits::DEFAULT_HEADER_READ_TIMEOUT;
///
/// assert_eq!(DEFAULT_HEADER_READ_TIMEOUT.as_secs(), 30);
/// ```
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an HTTP/2 connection may stay with no request open before it is closed (see
/// [`Serve::idle_timeout`](crate::Serve::idle_timeout)).
///
/// ```
/// use kotori::limits::DEFAULT_IDLE_TIMEOUT;
///
/// assert_eq!(DEFAULT_IDLE_TIMEOUT.as_secs(), 30);
/// ```
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take to send a request body before it gets a 408 (see
/// [`Node::body_timeout`](crate::Node::body_timeout)): a body that stalls half-way must not
/// hold a connection and its buffer for ever.
///
/// ```
/// use kotori::limits::DEFAULT_BODY_TIMEOUT;
///
/// // An upload route that allows twice the default.
/// let app = kotori::Kotori::new(());
/// app.node("/upload").body_timeout(DEFAULT_BODY_TIMEOUT * 2).post("", || async { "ok" });
/// app.build().unwrap();
/// ```
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a graceful shutdown waits for in-flight requests and open sockets (see
/// [`Serve::shutdown_timeout`](crate::Serve::shutdown_timeout)).
///
/// ```
/// use kotori::limits::DEFAULT_SHUTDOWN_TIMEOUT;
///
/// assert_eq!(DEFAULT_SHUTDOWN_TIMEOUT.as_secs(), 30);
/// ```
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a write to a connection may wait for the peer to take a byte before the
/// connection is closed (see [`Serve::write_timeout`](crate::Serve::write_timeout)): a client
/// that stops reading must not hold a stream, a WebSocket or the kernel's buffers for ever.
///
/// ```
/// use kotori::limits::DEFAULT_WRITE_TIMEOUT;
///
/// assert_eq!(DEFAULT_WRITE_TIMEOUT.as_secs(), 30);
/// ```
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest request head — request line and headers — kotori reads before refusing the
/// request with a rendered `431` (`414` when the request line alone is larger; see
/// [`Serve::max_header_bytes`](crate::Serve::max_header_bytes)). hyper's own limit (about
/// 400 KB for HTTP/1) stays above as a backstop.
///
/// ```
/// use kotori::limits::DEFAULT_MAX_HEADER_BYTES;
///
/// assert_eq!(DEFAULT_MAX_HEADER_BYTES, 16 * 1024);
/// ```
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

/// The most headers one request may have; more is a rendered `431`. hyper's own limit is the
/// same number, so kotori refuses before hyper would.
///
/// ```
/// use kotori::limits::MAX_HEADERS;
///
/// assert_eq!(MAX_HEADERS, 100);
/// ```
pub const MAX_HEADERS: usize = 100;
