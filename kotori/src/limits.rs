//! The numbers kotori enforces unless told otherwise.

use std::time::Duration;

/// Request bodies above this many bytes get a 413 unless a node sets its own
/// [`body_limit`](crate::Node::body_limit).
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The most path parameters one route may have; more is a build error. Parameters are kept as
/// byte ranges in a fixed array of the request context, so reading them never allocates.
pub const MAX_PARAMS: usize = 8;

/// How long a client may take to send a request's headers before the connection is closed
/// (see [`Serve::header_read_timeout`](crate::Serve::header_read_timeout)).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an HTTP/2 connection may stay with no request open before it is closed (see
/// [`Serve::idle_timeout`](crate::Serve::idle_timeout)).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take to send a request body before it gets a 408 (see
/// [`Node::body_timeout`](crate::Node::body_timeout)): a body that stalls half-way must not
/// hold a connection and its buffer for ever.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a graceful shutdown waits for in-flight requests and open sockets (see
/// [`Serve::shutdown_timeout`](crate::Serve::shutdown_timeout)).
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a write to a connection may wait for the peer to take a byte before the
/// connection is closed (see [`Serve::write_timeout`](crate::Serve::write_timeout)): a client
/// that stops reading must not hold a stream, a WebSocket or the kernel's buffers for ever.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest request head — request line and headers — kotori reads before refusing the
/// request with a rendered `431` (`414` when the request line alone is larger; see
/// [`Serve::max_header_bytes`](crate::Serve::max_header_bytes)). hyper's own limit (about
/// 400 KB for HTTP/1) stays above as a backstop.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

/// The most headers one request may have; more is a rendered `431`. hyper's own limit is the
/// same number, so kotori refuses before hyper would.
pub const MAX_HEADERS: usize = 100;
