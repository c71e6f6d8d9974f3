//! What the head reader tells the connection's service: which head it refused, and why, and
//! from which head on it stopped following the connection's framing.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use http::StatusCode;

use crate::Rejection;

/// Why a head was refused before dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum HeadRefusal {
    /// The request line and headers together passed the limit, or there were too many headers.
    TooLarge = 1,
    /// The request line alone passed the limit.
    UriTooLong = 2,
    /// The request line is not `METHOD target HTTP/1.x`.
    Malformed = 3,
    /// A header line is not `name: value` (a folded line, a space before the colon, a control
    /// character).
    MalformedHeader = 4,
    /// `Content-Length` is not one number of bytes (not digits, or two that differ).
    BadLength = 5,
    /// `Transfer-Encoding` does not end in `chunked`, or comes with HTTP/1.0.
    BadTransferEncoding = 6,
}

impl HeadRefusal {
    pub(super) fn from_u8(n: u8) -> Option<Self> {
        match n {
            1 => Some(HeadRefusal::TooLarge),
            2 => Some(HeadRefusal::UriTooLong),
            3 => Some(HeadRefusal::Malformed),
            4 => Some(HeadRefusal::MalformedHeader),
            5 => Some(HeadRefusal::BadLength),
            6 => Some(HeadRefusal::BadTransferEncoding),
            _ => None,
        }
    }

    /// The refusal the tree renders.
    pub(crate) fn rejection(self) -> Rejection {
        match self {
            HeadRefusal::TooLarge => {
                Rejection::from_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
                    .with_message("the request headers are too large")
            }
            HeadRefusal::UriTooLong => Rejection::from_status(StatusCode::URI_TOO_LONG)
                .with_message("the request line is too long"),
            HeadRefusal::Malformed => Rejection::bad_request("malformed request line"),
            HeadRefusal::MalformedHeader => Rejection::bad_request(
                "malformed header line: send `name: value` on one line, the name without spaces, \
                 the value without control characters",
            ),
            HeadRefusal::BadLength => {
                Rejection::bad_request("malformed Content-Length: send one number of bytes")
            }
            HeadRefusal::BadTransferEncoding => Rejection::bad_request(
                "unsupported Transfer-Encoding: send a body with Content-Length, or chunked \
                 (over HTTP/1.1, with `chunked` the last coding)",
            ),
        }
    }
}

/// What the wrapper tells the connection's service, about which head.
///
/// The wrapper reads ahead: with pipelined requests it may refuse the next head (or stop
/// following the connection at it) before hyper has dispatched the request before it. Heads
/// are therefore numbered from 0 on the connection, and the service numbers the requests it
/// is given the same way ([`HeadWatch::dispatched`]: hyper dispatches HTTP/1 requests one at
/// a time, in order) — a refusal reaches the request of the head it refused, never an
/// earlier one.
pub(crate) struct HeadWatch {
    pub(super) refusal: AtomicU8,
    /// The number of the head `refusal` refuses.
    refused_head: AtomicU64,
    /// The number of the first head whose framing is not followed (`u64::MAX`: none).
    pub(super) unfollowed_from: AtomicU64,
    /// Requests the service was given on this connection.
    dispatched: AtomicU64,
    /// The connection began with the HTTP/2 preface.
    http2: AtomicBool,
}

impl Default for HeadWatch {
    fn default() -> Self {
        HeadWatch {
            refusal: AtomicU8::new(0),
            refused_head: AtomicU64::new(0),
            unfollowed_from: AtomicU64::new(u64::MAX),
            dispatched: AtomicU64::new(0),
            http2: AtomicBool::new(false),
        }
    }
}

impl HeadWatch {
    /// Numbers the next request hyper dispatched on this HTTP/1 connection (from 0).
    pub(crate) fn dispatched(&self) -> u64 {
        self.dispatched.fetch_add(1, Ordering::AcqRel)
    }

    /// Whether the connection speaks HTTP/2 (it began with the preface).
    pub(crate) fn is_http2(&self) -> bool {
        self.http2.load(Ordering::Acquire)
    }

    pub(super) fn saw_http2_preface(&self) {
        self.http2.store(true, Ordering::Release);
    }

    /// The refusal of head number `head`, if it was refused (taken once).
    pub(crate) fn take_refusal(&self, head: u64) -> Option<HeadRefusal> {
        if self.refused_head.load(Ordering::Acquire) != head {
            return None;
        }
        HeadRefusal::from_u8(self.refusal.swap(0, Ordering::AcqRel))
    }

    /// Whether the wrapper stopped following this HTTP/1 connection's framing at or before
    /// head number `head`: the connection must close after that request (unless it was
    /// upgraded).
    pub(crate) fn unfollowed(&self, head: u64) -> bool {
        self.unfollowed_from.load(Ordering::Acquire) <= head
    }

    pub(super) fn refuse(&self, head: u64, refusal: HeadRefusal) {
        // The number first: the service reads the refusal, then checks whose it is.
        self.refused_head.store(head, Ordering::Release);
        self.refusal.store(refusal as u8, Ordering::Release);
    }
}
