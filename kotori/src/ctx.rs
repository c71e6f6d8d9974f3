//! The request context every step and handler receives.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use bytes::Bytes;
use http::header::AsHeaderName;
use http::request::Parts;
use http::{Extensions, HeaderMap, Method, Uri};
use serde::de::DeserializeOwned;

use crate::Rejection;
use crate::limits::MAX_PARAMS;
use crate::percent;

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

    /// Path parameter `index` as sent (still percent-encoded).
    pub(crate) fn raw_param(&self, index: usize) -> Option<&str> {
        if index >= usize::from(self.params.len) {
            return None;
        }
        let (start, end) = self.params.ranges[index];
        self.path().get(start as usize..end as usize)
    }

    /// A path parameter visible to the running step, percent-decoded.
    ///
    /// A step sees the parameters of its own node's prefix and of the nodes above; a handler
    /// sees all of its route's. `None` when there is no such parameter in scope, or when its
    /// escapes are malformed.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection};
    ///
    /// // A guard on `/users/{user}`: a user sees only their own subtree.
    /// fn own(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     match (cx.param("user"), cx.header("x-user")) {
    ///         (Some(path), Some(caller)) if path == caller => Ok(()),
    ///         _ => Err(Rejection::not_found()),
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/users/{user}").guard(own).get("/inbox", || async { "mail" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     let res = app.client().get("/users/ann%20lee/inbox").header("x-user", "ann lee").send().await;
    /// #     assert_eq!(res.text(), "mail"); // decoded: %20 is a space
    /// #     assert_eq!(app.client().get("/users/bob/inbox").header("x-user", "ann").send().await.status(), 404);
    /// # });
    /// ```
    pub fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        let names = self.params.names.as_deref()?;
        let visible = usize::from(self.scope.min(self.params.len));
        let index = names[..visible].iter().position(|n| &**n == name)?;
        self.param_at(index)
    }

    /// A path parameter parsed as `T`; a missing or unparsable parameter is a 404, because the
    /// URL names nothing that exists.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection};
    ///
    /// fn even_only(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     let id: u64 = cx.param_as("id")?; // not a number: 404
    ///     match id % 2 {
    ///         0 => Ok(()),
    ///         _ => Err(Rejection::forbidden()),
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/items/{id}").guard(even_only).get("", || async { "an even item" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().get("/items/2").send().await.status(), 200);
    /// #     assert_eq!(app.client().get("/items/3").send().await.status(), 403);
    /// #     assert_eq!(app.client().get("/items/x").send().await.status(), 404);
    /// # });
    /// ```
    pub fn param_as<T: FromStr>(&self, name: &str) -> Result<T, Rejection> {
        self.param(name)
            .and_then(|raw| raw.parse().ok())
            .ok_or_else(Rejection::not_found)
    }

    /// The innermost parameter visible to the running step (the one of its own node, for a
    /// loader on `/live/{id}`).
    pub(crate) fn innermost_param(&self) -> Option<Cow<'_, str>> {
        let visible = self.scope.min(self.params.len);
        self.param_at(usize::from(visible.checked_sub(1)?))
    }

    /// The last path parameter of the route as sent, still percent-encoded (a mounted
    /// service's rest of the path).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn last_raw_param(&self) -> Option<&str> {
        let (start, end) = self.params.ranges[usize::from(self.params.len.checked_sub(1)?)];
        self.path().get(start as usize..end as usize)
    }

    /// The request head: a mounted service gets the whole request.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn parts_mut(&mut self) -> &mut Parts {
        &mut self.parts
    }

    fn param_at(&self, index: usize) -> Option<Cow<'_, str>> {
        let (start, end) = self.params.ranges[index];
        percent::decode(self.path().get(start as usize..end as usize)?)
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

    /// The request body, once read.
    ///
    /// kotori reads the body (within the route's limit) right before the first step whose
    /// extractors need it ([`Form`](crate::Form), [`Json`](crate::Json), [`Bytes`]) and before
    /// the handler. A guard taking `&mut Ctx` that wants the body should take a `Bytes` or
    /// `Form` extractor instead; otherwise this answers a 500 and logs what to do.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// // kotori reads the body before the handler runs: a handler on the raw context sees it.
    /// app.post("/size", |cx: &mut Ctx<()>| {
    ///     let size = cx.body().map(|b| b.len()).unwrap_or(0);
    ///     async move { size.to_string() }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().post("/size").body("hello").send().await.text(), "5");
    /// # });
    /// ```
    pub fn body(&self) -> Result<&Bytes, Rejection> {
        self.body.as_ref().ok_or_else(|| {
            tracing::error!(
                request_id = self.request_id(),
                "the body is not read yet at this step: take a Bytes, Form or Json extractor; answering 500"
            );
            Rejection::internal()
        })
    }

    /// The query string deserialized as `T` (a 400 that names the problem otherwise).
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection};
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize)]
    /// struct Paging { page: u32 }
    ///
    /// fn first_pages_only(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     let paging: Paging = cx.query_as()?; // malformed: 400 naming the problem
    ///     match paging.page <= 100 {
    ///         true => Ok(()),
    ///         false => Err(Rejection::bad_request("page: at most 100")),
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/list").guard(first_pages_only).get("", || async { "[]" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().get("/list?page=3").send().await.status(), 200);
    /// #     assert_eq!(app.client().get("/list?page=101").send().await.status(), 400);
    /// #     assert_eq!(app.client().get("/list?page=x").send().await.status(), 400);
    /// # });
    /// ```
    pub fn query_as<T: DeserializeOwned>(&self) -> Result<T, Rejection> {
        serde_urlencoded::from_str(self.query().unwrap_or(""))
            .map_err(|e| Rejection::bad_request(format!("bad query string: {e}")))
    }

    /// The body deserialized from `application/x-www-form-urlencoded`.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize)]
    /// struct Login { name: String }
    ///
    /// let app = Kotori::new(());
    /// app.post("/login", |cx: &mut Ctx<()>| {
    ///     let answer = match cx.form::<Login>() {
    ///         Ok(form) => format!("hello {}", form.name),
    ///         Err(rejection) => rejection.message().to_owned(),
    ///     };
    ///     async move { answer }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().post("/login").form(&[("name", "ann")]).send().await.text(), "hello ann");
    /// # });
    /// ```
    pub fn form<T: DeserializeOwned>(&self) -> Result<T, Rejection> {
        serde_urlencoded::from_bytes(self.body()?)
            .map_err(|e| Rejection::bad_request(format!("bad form body: {e}")))
    }

    /// The body deserialized from JSON.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.post("/sum", |cx: &mut Ctx<()>| {
    ///     let answer = match cx.json::<Vec<i64>>() {
    ///         Ok(numbers) => numbers.iter().sum::<i64>().to_string(),
    ///         Err(rejection) => rejection.message().to_owned(),
    ///     };
    ///     async move { answer }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().post("/sum").json(&[1, 2, 3]).send().await.text(), "6");
    /// # });
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Rejection> {
        serde_json::from_slice(self.body()?)
            .map_err(|e| Rejection::bad_request(format!("bad JSON body: {e}")))
    }

    /// The template of the route the request matched (`/live/{live_id}/show`), as the tree
    /// prints it; `None` when no route matched — a 404, a 405, or a refusal by the guards of
    /// the node its path fell under ([`Ctx::node`] names that node). Known to every step, the
    /// renderer and the after hooks: a log line, a limit or a cache keyed by what was asked,
    /// never by the raw path with its ids (feature `metrics`).
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// fn log(cx: &Ctx<()>, res: &mut Response) {
    ///     let route = cx.route().or(cx.node()).unwrap_or("-");
    ///     let refused_by = cx.refused_by().unwrap_or("-");
    ///     println!("{} {route} {} {refused_by}", cx.method(), res.status());
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.after(log); // prints "GET /users/{id} 200 OK -"
    /// app.get("/users/{id}", || async { "a user" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let res = app.client().get("/users/7").send().await;
    /// # assert_eq!(res.status(), 200);
    /// # });
    /// ```
    #[cfg(feature = "metrics")]
    pub fn route(&self) -> Option<&str> {
        match self.series.as_deref()?.place() {
            crate::metrics::Place::Route { template, .. } => Some(template),
            crate::metrics::Place::Node { .. } => None,
        }
    }

    /// The prefix of the deepest node the request's path reached, when no route matched it
    /// (`/manage/dating/admin/api`); `None` when a route did ([`Ctx::route`]). Known to every
    /// step, the renderer and the after hooks (feature `metrics`).
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// fn tag(cx: &Ctx<()>, res: &mut Response) {
    ///     let place = cx.route().or(cx.node()).unwrap_or("-").to_owned();
    ///     res.headers_mut().insert("x-place", place.parse().unwrap());
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.after(tag).node("/api").get("/me", || async { "me" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/api/nothing").send().await.header("x-place"), Some("/api"));
    /// # });
    /// ```
    #[cfg(feature = "metrics")]
    pub fn node(&self) -> Option<&str> {
        match self.series.as_deref()?.place() {
            crate::metrics::Place::Route { .. } => None,
            crate::metrics::Place::Node { prefix } => Some(prefix),
        }
    }

    /// The guard, loader or handler that refused the request — or panicked, or was running
    /// when the route's timeout struck — named as the tree prints it
    /// (`require_privilege(users:ban)`, `app::auth::verify_signature`); `None` for an answer
    /// no step refused: a success, or a refusal kotori made itself (404, 405, a body over its
    /// limit). Known to the renderer and the after hooks (feature `metrics`); `None` before.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection, Response, named};
    ///
    /// fn who_refused(cx: &Ctx<()>, res: &mut Response) {
    ///     if let Some(step) = cx.refused_by() {
    ///         res.headers_mut().insert("x-refused-by", step.parse().unwrap());
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// let token = named("token", |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized));
    /// app.after(who_refused).guard(token).get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/").send().await.header("x-refused-by"), Some("token"));
    /// # });
    /// ```
    #[cfg(feature = "metrics")]
    pub fn refused_by(&self) -> Option<&str> {
        self.series.as_deref()?.step_name(self.refused_by)
    }

    /// The business code of the [`Rejection`] the request was answered with (`40103`), kotori's
    /// own refusals included (a 404's `40401`); `None` for a response a handler returned.
    /// Known to the renderer and the after hooks (feature `metrics`); `None` before.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// fn code(cx: &Ctx<()>, res: &mut Response) {
    ///     if let Some(code) = cx.rejection_code() {
    ///         res.headers_mut().insert("x-code", code.to_string().parse().unwrap());
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.after(code).get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/nothing").send().await.header("x-code"), Some("40401"));
    /// assert_eq!(app.client().get("/").send().await.header("x-code"), None);
    /// # });
    /// ```
    #[cfg(feature = "metrics")]
    pub fn rejection_code(&self) -> Option<u32> {
        self.rejection_code
    }

    /// The request id: the client's `X-Request-Id` when it is safe to echo (1–64 characters of
    /// `A-Z a-z 0-9 - _ .`), else a fresh one. Made on first use.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// fn echo_id(cx: &Ctx<()>, res: &mut Response) {
    ///     res.headers_mut().insert("x-request-id", cx.request_id().parse().unwrap());
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.after(echo_id).get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     let res = app.client().get("/").header("x-request-id", "abc-123").send().await;
    /// #     assert_eq!(res.header("x-request-id"), Some("abc-123"));
    /// #     let res = app.client().get("/").header("x-request-id", "no spaces please").send().await;
    /// #     assert_ne!(res.header("x-request-id"), Some("no spaces please"));
    /// # });
    /// ```
    pub fn request_id(&self) -> &str {
        self.request_id
            .get_or_init(|| match self.header("x-request-id") {
                Some(id) if is_safe_request_id(id) => id.into(),
                _ => fresh_request_id(),
            })
    }
}

fn is_safe_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A process-random prefix and a counter: unique per process, unguessable across processes,
/// and cheaper than a random number per request.
fn fresh_request_id() -> Box<str> {
    static SEED: LazyLock<u64> = LazyLock::new(|| RandomState::new().hash_one(0u8));
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:08x}-{n:x}", *SEED as u32).into_boxed_str()
}
