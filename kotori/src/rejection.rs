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
    ///
    /// ```
    /// use kotori::{Kotori, Rejection};
    /// use kotori::http::StatusCode;
    ///
    /// let app = Kotori::new(());
    /// app.get("/vip/lounge.json", || async {
    ///     Rejection::new(StatusCode::FORBIDDEN, 40302, "VIP required")
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().get("/vip/lounge.json").send().await;
    /// assert_eq!(res.status(), 403);
    /// assert_eq!(res.json::<serde_json::Value>()["code"], 40302);
    /// # });
    /// ```
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
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// let r = Rejection::bad_request("height: 100 to 250 (cm)");
    /// assert_eq!((r.status().as_u16(), r.code()), (400, 40001));
    /// assert_eq!(r.message(), "height: 100 to 250 (cm)");
    /// ```
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Rejection::from_status(StatusCode::BAD_REQUEST).with_message(message)
    }

    /// 401: the caller is not authenticated.
    ///
    /// ```
    /// use kotori::{Ctx, Rejection};
    ///
    /// fn token(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     cx.header("authorization").map(drop).ok_or_else(Rejection::unauthorized)
    /// }
    /// assert_eq!(Rejection::unauthorized().code(), 40101);
    /// ```
    pub fn unauthorized() -> Self {
        Rejection::from_status(StatusCode::UNAUTHORIZED)
    }

    /// 403: the caller is authenticated but may not do this.
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// let r = Rejection::forbidden().with_message("ann lacks users:ban");
    /// assert_eq!((r.status().as_u16(), r.code()), (403, 40301));
    /// ```
    pub fn forbidden() -> Self {
        Rejection::from_status(StatusCode::FORBIDDEN)
    }

    /// 404: nothing here (or nothing the caller may know about).
    ///
    /// ```
    /// use kotori::{Path, Rejection};
    ///
    /// struct Order { owner: u64 }
    ///
    /// // Someone else's order is not forbidden: it does not exist, for this caller.
    /// async fn own_order(Path(id): Path<u64>) -> Result<Order, Rejection> {
    ///     let order = Order { owner: id % 7 };
    ///     match order.owner == 1 {
    ///         true => Ok(order),
    ///         false => Err(Rejection::not_found()),
    ///     }
    /// }
    /// assert_eq!(Rejection::not_found().code(), 40401);
    /// ```
    pub fn not_found() -> Self {
        Rejection::from_status(StatusCode::NOT_FOUND)
    }

    /// 405 with the `Allow` header listing the methods the path does support.
    ///
    /// ```
    /// use kotori::Rejection;
    /// use kotori::http::HeaderValue;
    ///
    /// let r = Rejection::method_not_allowed(HeaderValue::from_static("GET, HEAD"));
    /// assert_eq!(r.status().as_u16(), 405);
    /// assert_eq!(r.headers().unwrap()["allow"], "GET, HEAD");
    /// ```
    pub fn method_not_allowed(allow: HeaderValue) -> Self {
        Rejection::from_status(StatusCode::METHOD_NOT_ALLOWED)
            .with_header(http::header::ALLOW, allow)
    }

    /// 408: the client stopped sending the request body (the route's body timeout elapsed).
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// assert_eq!((Rejection::request_timeout().status().as_u16(), Rejection::request_timeout().code()), (408, 40801));
    /// ```
    pub fn request_timeout() -> Self {
        Rejection::from_status(StatusCode::REQUEST_TIMEOUT)
    }

    /// 413: the request body is larger than the route's limit.
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// assert_eq!(Rejection::payload_too_large().code(), 41301);
    /// ```
    pub fn payload_too_large() -> Self {
        Rejection::from_status(StatusCode::PAYLOAD_TOO_LARGE)
    }

    /// 500: something failed inside the server. The message never carries internals.
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// // What a handler answers when something it relies on broke: the details go to the log.
    /// fn save() -> Result<(), Rejection> {
    ///     let disk_full = std::io::Error::other("disk full");
    ///     tracing::error!(error = %disk_full, "could not save");
    ///     Err(Rejection::internal())
    /// }
    /// assert_eq!(save().unwrap_err().code(), 50001);
    /// ```
    pub fn internal() -> Self {
        Rejection::from_status(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// 503: a dependency is unavailable, or the route's timeout elapsed.
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// let r = Rejection::unavailable().with_message("database unavailable");
    /// assert_eq!((r.status().as_u16(), r.code()), (503, 50301));
    /// ```
    pub fn unavailable() -> Self {
        Rejection::from_status(StatusCode::SERVICE_UNAVAILABLE)
    }

    /// Replaces the message.
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// let r = Rejection::unauthorized().with_message("token expired: log in again");
    /// assert_eq!(r.message(), "token expired: log in again");
    /// assert_eq!(r.code(), 40101);
    /// ```
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = message.into();
        self
    }

    /// Replaces the business code.
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// let r = Rejection::forbidden().with_code(40303).with_message("account banned");
    /// assert_eq!((r.status().as_u16(), r.code()), (403, 40303));
    /// ```
    pub fn with_code(mut self, code: u32) -> Self {
        self.code = code;
        self
    }

    /// Adds a header that every rendering of this rejection carries (`Allow`, `Retry-After`,
    /// `WWW-Authenticate`...). Renderers need not copy it: kotori adds it to whatever they
    /// produce.
    ///
    /// ```
    /// use kotori::{Kotori, Rejection};
    /// use kotori::http::{HeaderValue, StatusCode, header::RETRY_AFTER};
    ///
    /// let app = Kotori::new(());
    /// app.post("/sms", || async {
    ///     Rejection::new(StatusCode::TOO_MANY_REQUESTS, 42901, "one code a minute")
    ///         .with_header(RETRY_AFTER, HeaderValue::from_static("42"))
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().post("/sms").send().await;
    /// assert_eq!((res.status().as_u16(), res.header("retry-after")), (429, Some("42")));
    /// # });
    /// ```
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers
            .get_or_insert_with(Default::default)
            .append(name, value);
        self
    }

    /// The HTTP status.
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// assert_eq!(Rejection::forbidden().status(), kotori::http::StatusCode::FORBIDDEN);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The business code.
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// assert_eq!(Rejection::not_found().code(), 40401);
    /// assert_eq!(Rejection::not_found().with_code(40499).code(), 40499);
    /// ```
    pub fn code(&self) -> u32 {
        self.code
    }

    /// The message meant for the client.
    ///
    /// ```
    /// use kotori::Rejection;
    ///
    /// assert_eq!(Rejection::not_found().message(), "Not Found");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The headers added with [`Rejection::with_header`].
    ///
    /// ```
    /// use kotori::Rejection;
    /// use kotori::http::{HeaderValue, header::RETRY_AFTER};
    ///
    /// assert!(Rejection::forbidden().headers().is_none());
    /// let r = Rejection::unavailable().with_header(RETRY_AFTER, HeaderValue::from_static("5"));
    /// assert_eq!(r.headers().unwrap()[RETRY_AFTER], "5");
    /// ```
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
