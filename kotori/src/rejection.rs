//! Rejections: the value a guard, loader or handler returns to refuse a request.

use std::borrow::Cow;
use std::fmt;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

/// A refusal: an HTTP status, a business code and a message.
///
/// A rejection is a value, not a response: the nearest renderer on the request's path turns it
/// into one (see [`Render`](crate::render::Render)), so the same guard answers with a JSON envelope under
/// a `.json` API and with a plain page elsewhere.
///
/// The business code defaults to `status * 100 + 1` (404 → `40401`), matching the code classes
/// of the applications kotori was built for; set your own with [`Rejection::new`].
///
/// ```
/// use kotori::Rejection;
/// use http::StatusCode;
///
/// let r = Rejection::new(StatusCode::FORBIDDEN, 40302, "VIP required");
/// assert_eq!(r.status(), StatusCode::FORBIDDEN);
/// assert_eq!(r.code(), 40302);
/// assert_eq!(r.message(), "VIP required");
///
/// let r = Rejection::not_found();
/// assert_eq!((r.status().as_u16(), r.code()), (404, 40401));
/// ```
#[derive(Clone)]
pub struct Rejection {
    status: StatusCode,
    code: u32,
    message: Cow<'static, str>,
    // Boxed: most rejections carry no header, and a small `Err` keeps `Result`s cheap to move.
    headers: Option<Box<HeaderMap>>,
}

impl Rejection {
    /// A rejection with an explicit status, business code and message.
    pub fn new(status: StatusCode, code: u32, message: impl Into<Cow<'static, str>>) -> Self {
        Rejection {
            status,
            code,
            message: message.into(),
            headers: None,
        }
    }

    /// A rejection with `status`, the default code (`status * 100 + 1`) and the status's
    /// canonical reason as message.
    ///
    /// ```
    /// # use kotori::Rejection;
    /// let r = Rejection::from_status(http::StatusCode::UNAUTHORIZED);
    /// assert_eq!((r.code(), r.message()), (40101, "Unauthorized"));
    /// ```
    pub fn from_status(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("Error");
        Rejection::new(status, u32::from(status.as_u16()) * 100 + 1, reason)
    }

    /// 400, `40001`-class: the request is malformed. The message should say what to fix.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Rejection::from_status(StatusCode::BAD_REQUEST).with_message(message)
    }

    /// 401: the caller is not authenticated.
    pub fn unauthorized() -> Self {
        Rejection::from_status(StatusCode::UNAUTHORIZED)
    }

    /// 403: the caller is authenticated but may not do this.
    pub fn forbidden() -> Self {
        Rejection::from_status(StatusCode::FORBIDDEN)
    }

    /// 404: nothing here (or nothing the caller may know about).
    pub fn not_found() -> Self {
        Rejection::from_status(StatusCode::NOT_FOUND)
    }

    /// 405 with the `Allow` header listing the methods the path does support.
    pub fn method_not_allowed(allow: HeaderValue) -> Self {
        Rejection::from_status(StatusCode::METHOD_NOT_ALLOWED)
            .with_header(http::header::ALLOW, allow)
    }

    /// 408: the client stopped sending the request body (the route's body timeout elapsed).
    pub fn request_timeout() -> Self {
        Rejection::from_status(StatusCode::REQUEST_TIMEOUT)
    }

    /// 413: the request body is larger than the route's limit.
    pub fn payload_too_large() -> Self {
        Rejection::from_status(StatusCode::PAYLOAD_TOO_LARGE)
    }

    /// 500: something failed inside the server. The message never carries internals.
    pub fn internal() -> Self {
        Rejection::from_status(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// 503: a dependency is unavailable, or the route's timeout elapsed.
    pub fn unavailable() -> Self {
        Rejection::from_status(StatusCode::SERVICE_UNAVAILABLE)
    }

    /// Replaces the message.
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = message.into();
        self
    }

    /// Replaces the business code.
    pub fn with_code(mut self, code: u32) -> Self {
        self.code = code;
        self
    }

    /// Adds a header that every rendering of this rejection carries (`Allow`, `Retry-After`,
    /// `WWW-Authenticate`...). Renderers need not copy it: kotori adds it to whatever they
    /// produce.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers
            .get_or_insert_with(Default::default)
            .append(name, value);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The business code.
    pub fn code(&self) -> u32 {
        self.code
    }

    /// The message meant for the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The headers added with [`Rejection::with_header`].
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.headers.as_deref()
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("status", &self.status.as_u16())
            .field("code", &self.code)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for Rejection {}
