//! Replies: what handlers, guards and loaders give back, and how it becomes a response.

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};

use crate::Rejection;
use crate::body::Body;

/// The response type of kotori.
pub type Response = http::Response<Body>;

/// A finished answer: a response to send as it is, or a rejection for the renderer.
///
/// ```
/// use kotori::{IntoReply, Rejection, Reply};
///
/// assert!(matches!("hello".into_reply(), Reply::Response(_)));
/// assert!(matches!(Rejection::forbidden().into_reply(), Reply::Rejection(_)));
/// ```
#[derive(Debug)]
pub enum Reply {
    /// Sent as it is (after the after hooks).
    Response(Response),
    /// Rendered by the nearest renderer on the path, then sent.
    Rejection(Rejection),
}

/// Turns a handler's (or a guard's refusal's) value into a [`Reply`].
///
/// Implemented for responses, rejections, strings (`text/plain`), [`Json`](crate::Json),
/// `()` (an empty 200), status codes, `(StatusCode, T)`, and `Result<T, E>` where both sides
/// are replies — so a handler can use `?` on rejections:
///
/// ```
/// use kotori::{IntoReply, Json, Rejection, Reply};
///
/// fn find(id: u64) -> Result<Json<u64>, Rejection> {
///     if id == 0 { return Err(Rejection::not_found()); }
///     Ok(Json(id))
/// }
/// assert!(matches!(find(0).into_reply(), Reply::Rejection(_)));
/// assert!(matches!(find(7).into_reply(), Reply::Response(_)));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be turned into a reply",
    label = "returned here",
    note = "reply with a `String`, `&'static str`, `Json<T>`, `Response`, `Rejection`, `StatusCode`, `()`, `(StatusCode, T)` or `Result<T, E>` of those"
)]
pub trait IntoReply {
    /// Converts `self`.
    fn into_reply(self) -> Reply;
}

impl IntoReply for Reply {
    fn into_reply(self) -> Reply {
        self
    }
}

impl IntoReply for Response {
    fn into_reply(self) -> Reply {
        Reply::Response(self)
    }
}

impl IntoReply for Rejection {
    fn into_reply(self) -> Reply {
        Reply::Rejection(self)
    }
}

impl IntoReply for () {
    fn into_reply(self) -> Reply {
        Reply::Response(Response::new(Body::default()))
    }
}

impl IntoReply for StatusCode {
    fn into_reply(self) -> Reply {
        let mut res = Response::new(Body::default());
        *res.status_mut() = self;
        Reply::Response(res)
    }
}

impl IntoReply for &'static str {
    fn into_reply(self) -> Reply {
        text(Bytes::from_static(self.as_bytes()))
    }
}

impl IntoReply for String {
    fn into_reply(self) -> Reply {
        text(Bytes::from(self))
    }
}

impl IntoReply for Bytes {
    fn into_reply(self) -> Reply {
        let mut res = Response::new(Body::from(self));
        res.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        Reply::Response(res)
    }
}

impl<T: IntoReply> IntoReply for (StatusCode, T) {
    fn into_reply(self) -> Reply {
        match self.1.into_reply() {
            Reply::Response(mut res) => {
                *res.status_mut() = self.0;
                Reply::Response(res)
            }
            rejection => rejection,
        }
    }
}

impl<T: IntoReply, E: IntoReply> IntoReply for Result<T, E> {
    fn into_reply(self) -> Reply {
        match self {
            Ok(ok) => ok.into_reply(),
            Err(err) => err.into_reply(),
        }
    }
}

fn text(body: Bytes) -> Reply {
    let mut res = Response::new(Body::from(body));
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Reply::Response(res)
}

/// Builds a `application/json` response from already-serialized bytes.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}
