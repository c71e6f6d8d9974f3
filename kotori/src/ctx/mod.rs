//! The request context every step and handler receives.

mod body;
mod path_params;
mod trace;

use std::any::{Any, TypeId};
use std::cell::OnceCell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::AsHeaderName;
use http::request::Parts;
use http::{Extensions, HeaderMap, Method, Uri};

use crate::limits::MAX_PARAMS;

/// Everything a step knows about the request in flight: its head, path parameters, the
/// resources loaded by the loaders above, the body once read, and the application state.
///
/// Steps that take `&mut Ctx<S>` see all of it; most steps take extractors instead
/// ([`Res`](crate::Res), [`Path`](crate::Path), [`State`](crate::State)...), which read from it.
///
/// ```
/// use kotori::{Ctx, Kotori, Rejection};
///
/// // A guard on the raw context: the method, the path, a header.
/// fn read_only_for_guests(cx: &mut Ctx<()>) -> Result<(), Rejection> {
///     let guest = cx.header("authorization").is_none();
///     match guest && cx.method() != "GET" {
///         true => Err(Rejection::unauthorized().with_message(format!("log in to change {}", cx.path()))),
///         false => Ok(()),
///     }
/// }
///
/// let app = Kotori::new(());
/// let notes = app.node("/notes").guard(read_only_for_guests);
/// notes.get("", || async { "[]" });
/// notes.post("", || async { "saved" });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// #     assert_eq!(app.client().get("/notes").send().await.status(), 200);
/// #     assert_eq!(app.client().post("/notes").send().await.text(), "log in to change /notes");
/// # });
/// ```
pub struct Ctx<S> {
    parts: Parts,
    state: S,
    pub(crate) params: Params,
    pub(crate) resources: Vec<Loaded>,
    pub(crate) body: Option<Bytes>,
    /// How many path parameters the running step may see: those of its node's prefix.
    pub(crate) scope: u8,
    /// The deepest node depth entered so far; after hooks run from there up.
    pub(crate) depth: u8,
    request_id: OnceCell<Box<str>>,
    peer: Option<SocketAddr>,
    started: Instant,
    /// The chain step running (its index; the handler's is the number of steps).
    #[cfg(feature = "metrics")]
    pub(crate) at: u16,
    /// The step that refused the request, panicked or timed out (`metrics::NO_STEP`: none).
    #[cfg(feature = "metrics")]
    pub(crate) refused_by: u16,
    /// Where the request is measured — its route or node, and the names of its chain's steps:
    /// set when its chain is found, for [`Ctx::route`] and the rest.
    #[cfg(feature = "metrics")]
    pub(crate) series: Option<Arc<crate::metrics::RequestSeries>>,
    /// The business code of the rejection rendered, for [`Ctx::rejection_code`].
    #[cfg(feature = "metrics")]
    pub(crate) rejection_code: Option<u32>,
    /// The steps that awaited, for the request's span's children (feature `otel`).
    #[cfg(feature = "otel")]
    pub(crate) awaited: Vec<crate::metrics::otel::Awaited>,
}

/// A loaded resource, stored by type.
#[derive(Clone)]
pub(crate) struct Loaded {
    pub(crate) type_id: TypeId,
    pub(crate) value: Arc<dyn Any + Send + Sync>,
}

impl Loaded {
    pub(crate) fn new<T: Send + Sync + 'static>(value: T) -> Self {
        Loaded {
            type_id: TypeId::of::<T>(),
            value: Arc::new(value),
        }
    }
}

/// Path parameters as byte ranges into the request path: no copy, no allocation.
#[derive(Default)]
pub(crate) struct Params {
    pub(crate) names: Option<Arc<[Box<str>]>>,
    pub(crate) ranges: [(u32, u32); MAX_PARAMS],
    pub(crate) len: u8,
}

impl<S> Ctx<S> {
    pub(crate) fn new(parts: Parts, state: S, peer: Option<SocketAddr>) -> Self {
        Ctx {
            peer,
            started: Instant::now(),
            parts,
            state,
            params: Params::default(),
            resources: Vec::new(),
            body: None,
            scope: 0,
            depth: 0,
            request_id: OnceCell::new(),
            #[cfg(feature = "metrics")]
            at: 0,
            #[cfg(feature = "metrics")]
            refused_by: u16::MAX,
            #[cfg(feature = "metrics")]
            series: None,
            #[cfg(feature = "metrics")]
            rejection_code: None,
            #[cfg(feature = "otel")]
            awaited: Vec::new(),
        }
    }

    /// The address of the client's end of the connection, when served over a socket (behind a
    /// proxy this is the proxy: read its forwarding header if you trust it).
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.get("/ip", |cx: &mut Ctx<()>| {
    ///     let ip = cx.peer_addr().map(|a| a.ip().to_string());
    ///     async move { ip.unwrap_or_else(|| "in process".into()) }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().get("/ip").peer("203.0.113.7:4000".parse().unwrap()).send().await;
    /// assert_eq!(res.text(), "203.0.113.7");
    /// # });
    /// ```
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// When kotori started on this request (for access logs and latency metrics).
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// fn server_timing(cx: &Ctx<()>, res: &mut Response) {
    ///     let micros = cx.started().elapsed().as_micros();
    ///     let value = format!("app;dur={}", micros as f64 / 1000.0);
    ///     res.headers_mut().insert("server-timing", value.parse().unwrap());
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.after(server_timing).get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert!(app.client().get("/").send().await.header("server-timing").unwrap().starts_with("app;dur="));
    /// # });
    /// ```
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The request method.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use kotori::{Ctx, Kotori, Response};
    /// use kotori::http::Method;
    ///
    /// // Answers CORS preflights itself and lets everything else through.
    /// fn preflight(cx: &mut Ctx<()>) -> ControlFlow<Response> {
    ///     match cx.method() == Method::OPTIONS {
    ///         true => ControlFlow::Break(Response::new("".into())),
    ///         false => ControlFlow::Continue(()),
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/api").guard(preflight).get("/me", || async { "me" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().request(Method::OPTIONS, "/api/me").send().await.status(), 200);
    /// # });
    /// ```
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The request URI as sent.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.get("/echo", |cx: &mut Ctx<()>| {
    ///     let uri = cx.uri().to_string();
    ///     async move { uri }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/echo?x=1").send().await.text(), "/echo?x=1");
    /// # });
    /// ```
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The request path, still percent-encoded.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.get("/files/{name}", |cx: &mut Ctx<()>| {
    ///     let path = cx.path().to_owned(); // as sent: %20 stays %20
    ///     async move { path }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/files/a%20b").send().await.text(), "/files/a%20b");
    /// # });
    /// ```
    pub fn path(&self) -> &str {
        self.parts.uri.path()
    }

    /// The raw query string, if any.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.get("/search", |cx: &mut Ctx<()>| {
    ///     let query = cx.query().unwrap_or("").to_owned();
    ///     async move { query }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/search?q=rust").send().await.text(), "q=rust");
    /// # });
    /// ```
    pub fn query(&self) -> Option<&str> {
        self.parts.uri.query()
    }

    /// The request headers.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.get("/accepts", |cx: &mut Ctx<()>| {
    ///     let n = cx.headers().get_all("accept").iter().count();
    ///     async move { n.to_string() }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().get("/accepts").header("accept", "text/html").header("accept", "*/*").send().await;
    /// assert_eq!(res.text(), "2");
    /// # });
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// One header as text; `None` when absent or not visible ASCII.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection};
    ///
    /// fn api_key(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     match cx.header("x-api-key") {
    ///         Some("secret") => Ok(()),
    ///         _ => Err(Rejection::unauthorized()),
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/api").guard(api_key).get("/data", || async { "data" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().get("/api/data").send().await.status(), 401);
    /// #     assert_eq!(app.client().get("/api/data").header("x-api-key", "secret").send().await.status(), 200);
    /// # });
    /// ```
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        self.parts.headers.get(name)?.to_str().ok()
    }

    /// The request's extensions: a typed map for data that is not a loaded resource.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// #[derive(Clone)]
    /// struct Tenant(&'static str);
    ///
    /// fn tenant(cx: &mut Ctx<()>) {
    ///     let tenant = if cx.header("host") == Some("b.example") { "b" } else { "a" };
    ///     cx.extensions_mut().insert(Tenant(tenant));
    /// }
    ///
    /// fn tag(cx: &Ctx<()>, res: &mut Response) {
    ///     if let Some(Tenant(t)) = cx.extensions().get::<Tenant>() {
    ///         res.headers_mut().insert("x-tenant", t.parse().unwrap());
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.guard(tenant).after(tag).get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     let res = app.client().get("/").header("host", "b.example").send().await;
    /// #     assert_eq!(res.header("x-tenant"), Some("b"));
    /// # });
    /// ```
    pub fn extensions(&self) -> &Extensions {
        &self.parts.extensions
    }

    /// The request's extensions, mutably.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// #[derive(Clone)]
    /// struct Started(&'static str);
    ///
    /// let app = Kotori::new(());
    /// app.guard(|cx: &mut Ctx<()>| { cx.extensions_mut().insert(Started("by the guard")); })
    ///     .get("/", |cx: &mut Ctx<()>| {
    ///         let by = cx.extensions().get::<Started>().map_or("nobody", |s| s.0);
    ///         async move { by }
    ///     });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().get("/").send().await.text(), "by the guard");
    /// # });
    /// ```
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.parts.extensions
    }

    /// The application state given to [`Kotori::new`](crate::Kotori::new).
    ///
    /// ```
    /// use std::collections::HashSet;
    /// use std::sync::Arc;
    /// use kotori::{Ctx, Kotori, Rejection};
    ///
    /// type Banned = Arc<HashSet<&'static str>>;
    ///
    /// fn not_banned(cx: &mut Ctx<Banned>) -> Result<(), Rejection> {
    ///     match cx.header("x-user").is_some_and(|u| cx.state().contains(u)) {
    ///         true => Err(Rejection::forbidden()),
    ///         false => Ok(()),
    ///     }
    /// }
    ///
    /// let app = Kotori::new(Arc::new(HashSet::from(["mallory"])));
    /// app.guard(not_banned).get("/", || async { "welcome" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().get("/").header("x-user", "mallory").send().await.status(), 403);
    /// #     assert_eq!(app.client().get("/").header("x-user", "alice").send().await.status(), 200);
    /// # });
    /// ```
    pub fn state(&self) -> &S {
        &self.state
    }

    /// A context for asking the tree about another request by the same client
    /// ([`App::allows`](crate::App::allows)): this request's head and peer with another method
    /// and URI, an empty body, nothing loaded yet.
    pub(crate) fn probe(&self, method: Method, uri: Uri) -> Self
    where
        S: Clone,
    {
        let mut parts = self.parts.clone();
        parts.method = method;
        parts.uri = uri;
        let mut cx = Ctx::new(parts, self.state.clone(), self.peer);
        cx.body = Some(Bytes::new());
        cx
    }

    /// The request head: a mounted service gets the whole request.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn parts_mut(&mut self) -> &mut Parts {
        &mut self.parts
    }

    /// A resource loaded by a loader above the running step.
    ///
    /// Prefer the [`Res`](crate::Res) extractor: kotori checks at build time that some ancestor
    /// loads what it asks for; this method cannot be checked and returns `None` instead.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// struct User(&'static str);
    ///
    /// fn who(cx: &Ctx<()>, res: &mut Response) {
    ///     // After hooks see what the loaders above loaded — when they got that far.
    ///     let user = cx.resource::<User>().map_or("-", |u| u.0);
    ///     res.headers_mut().insert("x-user", user.parse().unwrap());
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/me").after(who).load(|| Some(User("ann"))).get("", || async { "me" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().get("/me").send().await.header("x-user"), Some("ann"));
    /// # });
    /// ```
    pub fn resource<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.loaded::<T>()?.value.downcast_ref::<T>()
    }

    /// The resource as a shared handle, for the [`Res`](crate::Res) extractor.
    pub(crate) fn resource_arc<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        Arc::clone(&self.loaded::<T>()?.value).downcast::<T>().ok()
    }

    fn loaded<T: 'static>(&self) -> Option<&Loaded> {
        let id = TypeId::of::<T>();
        // Newest first: a loader below may refine what a loader above loaded.
        self.resources.iter().rev().find(|l| l.type_id == id)
    }
}
